"""How fast the command line is on one repository, against libcst's parse alone, in one run.

Usage, from the repository's root: python -m benchmarks.speed REPO [--runs N] [--jobs N]

REPO is a git work tree you fetched (yolov5 has 16k lines, ludwig 165k). Every timing is a new
process, as a person's runs are, and the median of --runs. Printed:
- parse only: libcst parsing every Python file of REPO, in one process (the baseline), and the
  same spread over --jobs processes;
- ``check`` cold (no facts cache) with ``--jobs 1`` and ``--jobs N``, with their rates as a
  share of the parse-only rate per core, and whether both found the same;
- ``diff`` of a one-line change (a throwaway commit in a copy of REPO), cold and warm (facts
  cache filled by the cold run), and the cold full check's time over the warm diff's;
- start-up: ``debtbot --version``.
The webhook under load has its own script, benchmarks/load.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import libcst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
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
        warm, _ = _timed_debtbot(args.runs, diff, cache)
        print(f"diff of one changed file ({target}): cold {cold:.2f} s, warm {warm:.2f} s; "
              f"the cold full check takes {one / warm:.1f}x the warm diff")  # fmt: skip
        start, _ = _timed_debtbot(args.runs, ["--version"], cache, parse=False)
        print(f"start-up (debtbot --version): {start:.2f} s")


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


def _timed_debtbot(runs: int, arguments: list[str], cache: Path, parse: bool = True):
    environment = {**os.environ, "DEBTBOT_CACHE_DIR": str(cache)}
    command = [sys.executable, "-m", "bot.cli.main", *arguments]
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
