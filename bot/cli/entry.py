"""The ``debtbot`` command's first step. With ``DEBTBOT_DAEMON`` naming the socket of a running
``debtbot daemon``, ``check`` and ``diff`` are handed to it (see :mod:`bot.cli.daemon`); this
module imports nothing of the engine, so that a handed-over command costs only the
interpreter's start. Without a daemon, or when it does not answer, the command runs here."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

from bot.cli.build import build_id

DAEMON_COMMANDS = ("check", "diff")


def main() -> None:
    arguments = sys.argv[1:]
    socket_path = os.environ.get("DEBTBOT_DAEMON")
    if socket_path and arguments[:1] and arguments[0] in DAEMON_COMMANDS:
        code = through_daemon(Path(socket_path), arguments)
        if code is not None:
            sys.exit(code)
    from bot.cli.main import main as run_here

    sys.exit(run_here())


def through_daemon(socket_path: Path, arguments: list[str]) -> int | None:
    """Have the daemon at ``socket_path`` run the command, on this process's own standard
    streams; its exit status, or None when no daemon (of this very code) answers there."""
    request = {
        "argv": arguments,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "build": build_id(),
    }
    data = json.dumps(request).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(socket_path))
            socket.send_fds(connection, [data], [0, 1, 2])
            answer = b""
            while not answer.endswith(b"\n"):
                more = connection.recv(64)
                if not more:
                    break
                answer += more
    except OSError:
        return None
    except KeyboardInterrupt:
        return 130  # closing the connection stops the command in the daemon too
    if answer == b"stale\n":
        return None
    if answer.startswith(b"exit "):
        return int(answer[5:])
    # The daemon's child died without a word: what it printed may be partial, so say so
    # rather than run the command a second time.
    print("debtbot: error: the daemon stopped before the command finished", file=sys.stderr)
    return 70
