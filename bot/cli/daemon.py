"""``debtbot daemon``: a process that keeps the engine imported and warm, so that ``check`` and
``diff`` run in a fraction of their start-up time (as ``dmypy`` is to mypy).

The daemon listens on a Unix socket. A command run with ``DEBTBOT_DAEMON`` naming that socket
(see :mod:`bot.cli.entry`) hands over its arguments, folder, environment and its standard
streams themselves; the daemon forks a child that runs the command exactly as the command line
would, writing straight to the caller's terminal or pipe, and the caller exits with the child's
status. Nothing is shared between two commands but what the imports made: each child starts
from the daemon's state, and what it learns goes to the facts cache on disk as usual.

Only the user who started the daemon is served: its folder is private and every caller's uid is
checked. A daemon whose code changed on disk since it started refuses to serve (the caller then
runs the command itself) and stops. It stops too when idle for ``--idle-timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.cli.build import build_id
from bot.cli.errors import UsageError
from rules.engine import factcache, scanner

DEFAULT_IDLE_SECONDS = 15 * 60


def serve(path: Path, idle_seconds: float, command: Callable[[list[str]], int]) -> int:
    """Answer commands on the socket at ``path`` until idle for ``idle_seconds``, or until a
    caller shows that the code on disk has changed. ``command`` is the command line's own
    ``main``, run on a caller's arguments."""
    listener = _listen(path)
    listener.settimeout(idle_seconds)
    _warm_up()
    build = build_id()
    facts = _FactsInMemory(factcache.default_file())
    facts.keep_up()
    # Children are never waited for: the kernel reaps them. A stop asked for by a signal ends
    # the loop below, which removes the socket; commands under way finish in their children.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop)
    print(f"debtbot daemon: listening on {path}", file=sys.stderr, flush=True)
    try:
        while True:
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                print("debtbot daemon: idle, stopping", file=sys.stderr)
                return 0
            with connection:
                if not _same_user(connection):
                    continue
                request, streams = _receive(connection)
                if request is None:
                    _close(streams)
                    continue
                if request.get("build") != build:
                    connection.sendall(b"stale\n")
                    _close(streams)
                    print("debtbot daemon: the code changed on disk, stopping", file=sys.stderr)
                    return 0
                facts.keep_up()
                if os.fork() == 0:
                    listener.close()
                    os._exit(_run(command, request, streams, connection))
                _close(streams)
                what = " ".join(request["argv"][:1])
                print(f"debtbot daemon: {what} in {request['cwd']}", file=sys.stderr, flush=True)
    except _Stopped:
        print("debtbot daemon: stopping", file=sys.stderr)
        return 0
    finally:
        listener.close()
        path.unlink(missing_ok=True)


def _listen(path: Path) -> socket.socket:
    if _answers(path):
        raise UsageError(f"a daemon already listens at {path}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)
        path.unlink(missing_ok=True)  # left by a daemon that was killed
        listener.bind(str(path))
    except OSError as exc:
        listener.close()
        raise UsageError(f"cannot listen at {path}: {exc.strerror or exc}") from None
    listener.listen(16)
    return listener


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class _Stopped(Exception):
    """SIGTERM or SIGINT reached the daemon."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def _warm_up() -> None:
    """Import and exercise what a command needs, so that no child pays for it."""
    import git  # noqa: F401  (GitPython: read by diff)

    from rules.catalogue import all_rules
    from rules.engine import analyse_source, default_config

    config = default_config()
    sample = b"import numpy as np\n\n\ndef f(x):\n    return np.random.rand() > 0.5\n"
    analyse_source("warm_up.py", sample, config, tuple(all_rules()), frozenset(), True)
    gc.collect()
    gc.freeze()  # all of the above lives as long as the daemon


@dataclass
class _FactsInMemory:
    """The facts cache's entries, kept in the daemon's memory for its children to inherit:
    loading them from disk would be a third of a warm ``diff``. Entries that children write
    to the cache are taken in before the next command."""

    cache_file: Path
    newest: int = 0

    def keep_up(self) -> None:
        entries, self.newest = factcache.load_newer(
            self.cache_file, self.newest, scanner.FACTS_IN_MEMORY
        )
        scanner.remember(entries)


def _same_user(connection: socket.socket) -> bool:
    credentials = connection.getsockopt(
        socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
    )
    _, uid, _ = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _receive(connection: socket.socket) -> tuple[dict | None, list[int]]:
    """The caller's request and its three standard streams."""
    connection.settimeout(10)
    streams: list[int] = []
    try:
        data, streams, _, _ = socket.recv_fds(connection, 1 << 16, 3)
        while not data.endswith(b"\n"):
            more = connection.recv(1 << 16)
            if not more:
                return None, streams
            data += more
        request = json.loads(data)
    except (OSError, ValueError):
        return None, streams
    if len(streams) != 3 or not isinstance(request, dict):
        return None, streams
    return request, streams


def _run(
    command: Callable[[list[str]], int],
    request: dict,
    streams: list[int],
    connection: socket.socket,
) -> int:
    """In the child: become the caller's command, then tell it the exit status."""
    try:
        for target, stream in enumerate(streams):
            os.dup2(stream, target)
        _close(streams)
        # Buffered as Python buffers its own: stdout by line on a terminal, stderr always (the
        # progress bar), and stderr never fails on a character it cannot encode.
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(  # noqa: SIM115
            1, "w", 1 if os.isatty(1) else -1, "utf-8", closefd=False
        )
        sys.stderr = open(  # noqa: SIM115
            2, "w", 1, "utf-8", "backslashreplace", closefd=False
        )
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # As a command run from a shell: stop quietly when the reader of the output goes.
        for inherited in (signal.SIGPIPE, signal.SIGCHLD, signal.SIGTERM):
            signal.signal(inherited, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # The caller stopped (Ctrl-C, a killed pre-commit hook): so does its command.
        connection.settimeout(None)
        threading.Thread(target=_end_with, args=(connection,), daemon=True).start()
        try:
            code = command(request["argv"])
        except SystemExit as exc:  # argparse's exit on a usage error, as Python reads it
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # whatever happens, the caller must get an answer
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        code = 70  # EX_SOFTWARE
    with contextlib.suppress(OSError):  # the caller may be gone
        connection.sendall(f"exit {code}\n".encode())
    return code


def _end_with(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.recv(1)  # the caller sends nothing more: this returns when it is gone
    os._exit(130)


def _close(streams: list[int]) -> None:
    for stream in streams:
        os.close(stream)
