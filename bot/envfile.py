"""Writing settings to a ``.env`` file that holds secrets.

Setup mode saves the registered App's private key and webhook secret here, so the file is
readable by its owner alone from the moment it exists: the new content is written into a
temporary file that ``mkstemp`` creates with mode 0600, next to the target, then renamed over
it. A crash leaves the old file (or none) and never a half-written one. Lines already in the
file that are not being set stay as they were.

python-dotenv does the quoting, so that what pydantic-settings reads back (it uses the same
parser) is exactly what was written, multi-line PEM keys included. The one thing quoting cannot
protect is ``${NAME}``, which that parser expands even in quotes; so the new content is read
back before it replaces the file, and a value that would not survive is refused.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values, set_key

PRIVATE_MODE = 0o600


class EnvFileError(ValueError):
    """A value that would not be read back as written; the file was left as it was."""


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in the .env file at ``path`` (created if absent), keeping its other lines;
    the file ends with mode 0600 whatever it had before."""
    path = Path(path)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(existing)
        for name, value in values.items():
            # set_key rewrites the file through a temporary file of its own (also made by
            # mkstemp, so 0600); the mode is set again below whatever a release does.
            set_key(temporary, name, value, quote_mode="always")
        os.chmod(temporary, PRIVATE_MODE)
        read_back = dotenv_values(temporary, encoding="utf-8")
        garbled = [name for name, value in values.items() if read_back.get(name) != value]
        if garbled:  # names only: the values may be secrets
            raise EnvFileError(f"{', '.join(garbled)} would not be read back as written")
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
