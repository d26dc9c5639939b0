"""How fast debtbot's command line and App are on one repository, against libcst's parse.

Usage, from the repository's root: python -m benchmarks.speed REPO [--runs N] [--jobs N]
       [--webhook-runs 5] [--webhook-seconds 60]

REPO is a git work tree you fetched (yolov5 has 16k lines, ludwig 165k). Every timing is a new
process, as a person's runs are, and the median of --runs. Printed:
- parse only: libcst parsing every Python file of REPO, in one process (the baseline), and the
  same spread over --jobs processes;
- ``check`` cold (no facts cache) with ``--jobs 1`` and ``--jobs N``, with their rates as a
  share of the parse-only rate per core, and whether both found the same;
- ``diff`` of a one-line change (a throwaway commit in a copy of REPO), cold and warm (facts
  cache filled by the cold run), then warm through ``debtbot daemon``, and the cold full
  check's time over each warm diff's;
- start-up: ``debtbot --version``;
- the App: ``debtbot serve`` against the simulated GitHub of the tests and a git server holding
  REPO, from the webhook of a pull request adding one file to the review posted: the first
  (the App clones its mirror and summarises every file) and the next ones (mirror present).
- the webhook under load: ``--webhook-runs`` runs (default 5) of benchmarks/load.py's single
  process, 200 pull-request deliveries a second for ``--webhook-seconds`` (default 60): the
  acknowledgement's p99 in each run, deliveries lost, and how long the App took to stop on
  SIGTERM with reviews in flight. ``--webhook-runs 0`` leaves it out.

Run with bytecode compiled, as an installed package has it: the script compiles bot/ and rules/
first (PYTHONDONTWRITEBYTECODE would otherwise have every run compile them again).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import libcst

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--webhook-runs", type=int, default=5)
    parser.add_argument("--webhook-seconds", type=float, default=60)
    args = parser.parse_args()
    for package in ("bot", "rules"):
        compileall.compile_dir(ROOT / package, quiet=1)
    repo = args.repo.resolve()
    files = sorted(p for p in repo.rglob("*.py") if ".git" not in p.parts and p.is_file())
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    print(f"{repo}: {len(files)} Python files, {lines} lines; {args.jobs} jobs, {args.runs} runs")

    parse_one = _median(args.runs, lambda: _parse_all(files, 1))
    parse_many = _median(args.runs, lambda: _parse_all(files, args.jobs))
    print(f"parse only, 1 process: {parse_one:.2f} s ({lines / parse_one:,.0f} lines/s)")
    print(f"parse only, {args.jobs} processes: {parse_many:.2f} s")

    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        check = ["check", str(repo), "--no-cache", "--format", "json", "--no-progress"]
        one, found_one = _timed_debtbot(args.runs, [*check, "--jobs", "1"], cache)
        many, found_many = _timed_debtbot(args.runs, [*check, "--jobs", str(args.jobs)], cache)
        print(f"check cold, --jobs 1: {one:.2f} s, {parse_one / one:.2f}x the parse-only rate")
        print(f"check cold, --jobs {args.jobs}: {many:.2f} s, "
              f"{parse_one / many / args.jobs:.2f}x the parse-only rate per core, "
              f"{parse_one / many:.2f}x one process's parse-only rate; "
              f"same findings: {found_one == found_many}")  # fmt: skip

        copy = Path(folder) / "copy"
        shutil.copytree(repo, copy, symlinks=True)
        base = _git(copy, "rev-parse", "HEAD")
        target = files[len(files) // 2].relative_to(repo)
        with (copy / target).open("a") as handle:
            handle.write("\nTHRESHOLD_FOR_THE_BENCHMARK = 0.5\n")
        _git(copy, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam", "one line")
        diff = ["diff", "--repo", str(copy), "--base", base, "--head", "HEAD",
                "--format", "json", "--no-progress"]  # fmt: skip
        cold, _ = _timed_debtbot(args.runs, [*diff, "--no-cache"], cache)
        _timed_debtbot(1, diff, cache)  # fills the facts cache
        warm, found_warm = _timed_debtbot(args.runs, diff, cache)
        print(f"diff of one changed file ({target}): cold {cold:.2f} s, warm {warm:.2f} s; "
              f"the cold full check takes {one / warm:.1f}x the warm diff")  # fmt: skip
        served, found_served = _served_diff(args.runs, diff, cache, Path(folder) / "daemon.sock")
        print(
            f"the same warm diff through debtbot daemon: {served:.2f} s; the cold full check "
            f"takes {one / served:.1f}x it; same findings: {found_served == found_warm}"
        )
        start, _ = _timed_debtbot(args.runs, ["--version"], cache, parse=False)
        print(f"start-up (debtbot --version): {start:.2f} s")

        first, later = _app_reviews(repo, Path(folder) / "app", args.runs)
        print(f"App review of a one-file pull request, webhook to review posted: first (mirror "
              f"cloned, facts summarised) {first:.2f} s; later (mirror present) "
              f"{statistics.median(later):.2f} s, median of {len(later)}")  # fmt: skip
    if args.webhook_runs:
        _webhook(args.webhook_runs, args.webhook_seconds)


def _webhook(runs: int, seconds: float) -> None:
    from benchmarks import load

    settings = argparse.Namespace(rate=200.0, seconds=seconds, heads=5, drain=5.0, runs=runs)
    results = load.measure(["single"], settings)["single"]
    p99 = ", ".join(f"{r.p99 * 1000:.1f}" for r in results)
    print(f"webhook, 200 pull-request deliveries/s for {seconds:.0f} s, one process, {runs} "
          f"runs: ack p99 {p99} ms; lost {sum(r.lost for r in results)}; stopped "
          f"{max(r.stopped_in for r in results):.1f} s after SIGTERM at most, reviews "
          f"in flight")  # fmt: skip


NEW_FILE = """\
import numpy as np


def pick(frame, seed):
    np.random.seed(seed)
    print("picking", len(frame))
    return frame.sample(frac=0.5)
"""


def _app_reviews(repo: Path, work: Path, runs: int) -> tuple[float, list[float]]:
    """Seconds from a pull request's webhook to its review reaching GitHub, for ``1 + runs``
    pull requests of REPO one after the other, each adding one file, against one ``debtbot
    serve``. The review includes the one second GitHub asks the App to leave between its check
    run and its review (two writes)."""
    from bot.app.webhooks import signature
    from tests.bot.app.test_end_to_end import serving_git
    from tests.fakes.github import running_fake_github

    full_name, secret = "acme/benchmark", "speed-secret"
    work.mkdir()
    with running_fake_github() as fake, serving_git(work) as git_url:
        bare = work / "remotes" / f"{full_name}.git"
        _git(work, "clone", "-q", "--bare", str(repo), str(bare))
        base = _git(bare, "rev-parse", "HEAD")
        _git(bare, "update-ref", "refs/heads/main", base)
        copy = work / "copy"
        _git(work, "clone", "-q", str(bare), str(copy))
        fake.add_installation(1, account="acme")
        fake.add_repository(full_name, installation_id=1)
        numbers = list(range(1, runs + 2))
        for number in numbers:
            _git(copy, "checkout", "-q", "-B", f"topic{number}", base)
            added = f"benchmark_{number}.py"
            (copy / added).write_text(NEW_FILE)
            _git(copy, "add", added)
            _git(copy, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "one file")
            head = _git(copy, "rev-parse", "HEAD")
            _git(copy, "push", "-q", str(bare), f"{head}:refs/pull/{number}/head")
            fake.add_pull(full_name, number, head, base, commentable={added: range(1, 9)})
        _git(bare, "repack", "-a", "-d", "-q")  # one pack: git's dumb protocol fetches it whole
        _git(bare, "update-server-info")

        port = _free_port()
        environment = {
            **os.environ,
            **fake.environment(),
            "GITHUB_WEBHOOK_SECRET": secret,
            "GITHUB_URL": git_url,
            "PUBLIC_URL": "https://debtbot.example.com",
            "DATABASE_URL": f"sqlite:///{work}/app.sqlite3",
            "DATA_DIR": str(work / "data"),
            "SUMMARIES": "false",
            "LOG_LEVEL": "WARNING",
            "WORKER_POLL_SECONDS": "0.05",
        }
        log = (work / "serve.log").open("ab")
        server = subprocess.Popen(  # debt: ignore[DEBT801]
            [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 60)
            seconds = []
            for number in numbers:
                reviews = rf"/repos/{full_name}/pulls/{number}/reviews"
                body = json.dumps(fake.pull_request_event(full_name, number)).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/webhook",
                    data=body,
                    headers={
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": f"speed-{number}",
                        "X-Hub-Signature-256": signature(secret, body),
                        "Content-Type": "application/json",
                    },
                )
                # GitHub asks for a second between writes of one installation: a pull request
                # reviewed just before would make this one wait for it.
                time.sleep(1.5)
                started = time.monotonic()  # the clock the simulated GitHub stamps requests with
                urllib.request.urlopen(request, timeout=10).read()
                _wait(lambda reviews=reviews: fake.requests_to("POST", reviews), 300)
                seconds.append(fake.requests_to("POST", reviews)[0].at - started)
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    return seconds[0], seconds[1:]


def _answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=1).status == 200
    except OSError:
        return False


def _wait(condition, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit("timed out: see the App's log")
        time.sleep(0.01)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _parse_all(files: list[Path], jobs: int) -> None:
    if jobs <= 1:
        for path in files:
            _parse(path)
        return
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_parse, files, chunksize=16))


def _parse(path: Path) -> None:
    try:
        libcst.parse_module(path.read_bytes())
    except Exception:  # debt: ignore[DEBT301] the engine skips what does not parse; so does this
        return


def _timed_debtbot(
    runs: int, arguments: list[str], cache: Path, parse: bool = True, daemon: Path | None = None
):
    environment = {**os.environ, "DEBTBOT_CACHE_DIR": str(cache)}
    if daemon is not None:
        environment["DEBTBOT_DAEMON"] = str(daemon)
    # The installed command's entry point, which hands the command to a daemon when one is set.
    command = [sys.executable, "-c", "from bot.cli.entry import main; main()", *arguments]
    times, found = [], None
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(  # debt: ignore[DEBT801]
            command, capture_output=True, text=True, env=environment, check=False
        )
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"debtbot {' '.join(arguments)} failed:\n{done.stderr}")
        if parse:
            found = [(f["code"], f["path"], f["line"]) for f in json.loads(done.stdout)["findings"]]
    return statistics.median(times), found


def _served_diff(runs: int, diff: list[str], cache: Path, socket_path: Path):
    daemon = subprocess.Popen(  # debt: ignore[DEBT801]
        [sys.executable, "-m", "bot.cli.main", "daemon", "--socket", str(socket_path)],
        env={**os.environ, "DEBTBOT_CACHE_DIR": str(cache)},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if "listening on" not in daemon.stderr.readline():
            raise SystemExit("debtbot daemon did not start")
        return _timed_debtbot(runs, diff, cache, daemon=socket_path)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


def _median(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


if __name__ == "__main__":
    main()
