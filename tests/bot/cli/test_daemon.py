"""``debtbot daemon``: check and diff handed to a warm process give what they give without it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.entry import through_daemon

ROOT = Path(__file__).resolve().parents[3]
# The installed command's entry point, and the daemon.
COMMAND = [sys.executable, "-c", "from bot.cli.entry import main; main()"]
DAEMON = [sys.executable, "-m", "bot.cli.main", "daemon"]
DEBT = "import sys\n\nsys.path.append('..')\nbad = values == float('nan')\n"


def debtbot(*argv: str, cwd: Path, env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    """The ``debtbot`` command as installed: its entry point, in a process of its own."""
    done = subprocess.run(
        [*COMMAND, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DEBTBOT_CACHE_DIR": str(tmp_path / "cache")}


@pytest.fixture
def daemon(tmp_path: Path, environment: dict[str, str]) -> Iterator[tuple[Path, subprocess.Popen]]:
    path = tmp_path / "run" / "daemon.sock"
    process = subprocess.Popen(
        [*DAEMON, "--socket", str(path)],
        env=environment,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "listening on" in process.stderr.readline()
    yield path, process
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)


def make_repository(root: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    root.mkdir()
    git("init", "-q", "-b", "main")
    (root / "model.py").write_text("WIDTH = 4\n")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    (root / "model.py").write_text("WIDTH = 4\n" + DEBT)
    (root / "other.py").write_text(DEBT)


def test_diff_and_check_through_the_daemon_say_what_they_say_without_it(
    tmp_path: Path, environment: dict[str, str], daemon
) -> None:
    socket_path, process = daemon
    repository = tmp_path / "repo"
    make_repository(repository)
    served = {**environment, "DEBTBOT_DAEMON": str(socket_path)}
    for command in (
        ["diff", "--base", "main", "--format", "json", "--no-progress"],
        ["check", ".", "--format", "json", "--no-progress"],
        ["check", "other.py", "--format", "text", "--no-progress", "--no-cache"],
        ["diff", "--format", "nonsense"],  # a usage error is the same error
    ):
        alone = debtbot(*command, cwd=repository, env=environment)
        through = debtbot(*command, cwd=repository, env=served)
        if "json" in command:
            for answer in (alone, through):
                assert json.loads(answer[1]).pop("stats")
            alone, through = (
                (code, _without_seconds(out), err) for code, out, err in (alone, through)
            )
        assert through == alone
        assert process.stderr.readline().startswith(f"debtbot daemon: {command[0]} in ")
    assert alone[0] == 2 and "invalid choice" in alone[2]


def test_code_on_stdin_reaches_the_daemons_command(
    tmp_path: Path, environment: dict[str, str], daemon
) -> None:
    socket_path, _ = daemon
    served = {**environment, "DEBTBOT_DAEMON": str(socket_path)}
    command = ["check", "-", "--stdin-filename", "train.py", "--format", "json", "--no-progress"]
    code, out, _ = debtbot(*command, cwd=tmp_path, env=served, stdin=DEBT)
    assert code == 1
    found = [(f["path"], f["code"]) for f in json.loads(out)["findings"]]
    assert ("train.py", "DEBT702") in found and ("train.py", "DEBT302") in found


def test_without_a_daemon_the_command_runs_by_itself(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    (tmp_path / "train.py").write_text(DEBT)
    served = {**environment, "DEBTBOT_DAEMON": str(tmp_path / "nobody.sock")}
    code, out, _ = debtbot("check", "train.py", "--no-progress", cwd=tmp_path, env=served)
    assert code == 1 and "DEBT702" in out


def test_a_daemon_of_other_code_refuses_and_stops(tmp_path: Path, daemon) -> None:
    socket_path, process = daemon
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(str(socket_path))
        request = {"argv": ["check"], "cwd": str(tmp_path), "env": {}, "build": "older"}
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        assert connection.recv(64) == b"stale\n"
    assert process.wait(timeout=10) == 0
    assert not socket_path.exists()


def test_a_stale_or_silent_daemon_leaves_the_command_to_run_here(tmp_path: Path) -> None:
    path = tmp_path / "fake.sock"
    answers = iter([b"stale\n", b""])
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(2)

        def answer() -> None:
            for text in answers:
                connection, _ = listener.accept()
                with connection:
                    socket.recv_fds(connection, 1 << 16, 3)
                    connection.sendall(text)

        thread = threading.Thread(target=answer)
        thread.start()
        assert through_daemon(path, ["check"]) is None  # stale: run here
        assert through_daemon(path, ["check"]) == 70  # died mid-command: an error, not a rerun
        thread.join(timeout=10)


def test_an_idle_daemon_stops_by_itself(tmp_path: Path, environment: dict[str, str]) -> None:
    path = tmp_path / "idle.sock"
    started = time.monotonic()
    done = subprocess.run(
        [*DAEMON, "--socket", str(path), "--idle-timeout", "1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "idle, stopping" in done.stderr
    assert time.monotonic() - started < 30
    assert not path.exists()


def _without_seconds(out: str) -> str:
    report = json.loads(out)
    report["stats"].pop("seconds")
    return json.dumps(report)


def test_a_caller_that_stops_stops_its_command_in_the_daemon(
    tmp_path: Path, environment: dict[str, str], daemon
) -> None:
    socket_path, process = daemon
    for n in range(400):
        (tmp_path / "big" / f"m{n}.py").parent.mkdir(exist_ok=True)
        (tmp_path / "big" / f"m{n}.py").write_text(DEBT * 50)
    served = {**environment, "DEBTBOT_DAEMON": str(socket_path)}
    caller = subprocess.Popen(
        [*COMMAND, "check", "big", "--no-cache", "--no-progress", "--jobs", "1"],
        cwd=tmp_path,
        env=served,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stderr.readline().startswith("debtbot daemon: check in ")
    assert _children(process.pid)
    caller.send_signal(signal.SIGINT)
    assert caller.wait(timeout=10) == 130
    deadline = time.monotonic() + 10
    while _children(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children(process.pid) == []


def _children(pid: int) -> list[str]:
    listed = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return listed.split()


def test_a_second_daemon_on_the_same_socket_is_refused(
    tmp_path: Path, environment: dict[str, str], daemon
) -> None:
    socket_path, _ = daemon
    done = subprocess.run(
        [*DAEMON, "--socket", str(socket_path)], env=environment, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr == f"debtbot: error: a daemon already listens at {socket_path}\n"
    assert socket_path.exists()
