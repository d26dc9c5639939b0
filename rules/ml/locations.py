"""Which file locations exist on one machine only.

A path inside one person's home folder (``/home/alice/...``, ``/Users/alice/...``,
``C:\\Users\\alice\\...``), a Windows drive other than its system folders (``D:/datasets``) or a
Google Drive mounted in Colab (``/content/drive/...``) is found on the author's machine and
nowhere else. Shared mount points (``/data``, ``/mnt``, ``/workspace``, ``/opt``, ``/tmp``) are
not: clusters and containers provide them on every machine by design. Rules that judge Python
literals (DEBT701) and shell launchers (DEBT706) ask here.
"""

from __future__ import annotations

import re

_HOME = re.compile(r"^(/home|/Users)/(?P<user>[^/\s]+)(/|$)")
_WINDOWS = re.compile(r"^[A-Za-z]:[\\/]+(?!(windows|program ?files|programdata)\b)", re.IGNORECASE)
_COLAB_DRIVE = re.compile(r"^/content/(gdrive|drive)/")
# A user segment written as a template (``/home/{user}``, ``/home/$USER``, ``/home/<you>``) is
# filled in on each machine.
_PLACEHOLDER = re.compile(r"[<>{}$%]")

# Where, inside a longer text (a command line), a machine path may begin.
MACHINE_PATH_START = re.compile(r"/home/|/Users/|/content/g?drive/|[A-Za-z]:[\\/]")


def machine_specific(text: str) -> bool:
    """Whether ``text`` is a path that exists on one person's machine only."""
    home = _HOME.match(text)
    if home is not None:
        user = home.group("user")
        return user != "Shared" and not _PLACEHOLDER.search(user)
    return bool(_WINDOWS.match(text) or _COLAB_DRIVE.match(text))
