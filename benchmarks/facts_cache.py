"""How much the facts cache on disk saves ``debtbot diff`` in a large repository.

Usage: python benchmarks/facts_cache.py REPO [BASE] [HEAD] [--runs N]

Runs ``debtbot diff`` in REPO (a git work tree; BASE defaults to HEAD~1, HEAD to HEAD) N times
each: without the cache (the baseline: every other Python file summarised afresh), and with a
cache that an earlier run filled. Each run is a new process, as a person's runs are. Prints
the median wall time of each and their ratio, and checks the findings are the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(repo: str, base: str, head: str, cache_dir: str, cached: bool) -> tuple[float, list]:
    command = [sys.executable, "-m", "bot.cli.main", "diff", "--repo", repo, "--base", base]
    command += ["--head", head, "--format", "json", "--no-progress"]
    if not cached:
        command.append("--no-cache")
    environment = {**os.environ, "DEBTBOT_CACHE_DIR": cache_dir}
    started = time.perf_counter()
    # A new process on purpose: what a person waits for, with no facts left in memory.
    done = subprocess.run(  # debt: ignore[DEBT801]
        command, capture_output=True, text=True, env=environment, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"debtbot diff failed:\n{done.stderr}")
    findings = json.loads(done.stdout)["findings"]
    return seconds, sorted((f["code"], f["path"], f["line"]) for f in findings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repo")
    parser.add_argument("base", nargs="?", default="HEAD~1")
    parser.add_argument("head", nargs="?", default="HEAD")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    os.chdir(root)  # so that -m bot.cli.main runs this checkout
    with tempfile.TemporaryDirectory() as cache_dir:
        _, expected = run(args.repo, args.base, args.head, cache_dir, cached=True)  # fills it
        cold, warm = [], []
        for _ in range(args.runs):  # interleaved, so a busy machine slows both alike
            seconds, findings = run(args.repo, args.base, args.head, cache_dir, cached=False)
            assert findings == expected, "the baseline found something else"
            cold.append(seconds)
            seconds, findings = run(args.repo, args.base, args.head, cache_dir, cached=True)
            assert findings == expected, "the cached run found something else"
            warm.append(seconds)
    baseline, cached = statistics.median(cold), statistics.median(warm)
    print(f"findings: {len(expected)} (the same in every run)")
    print(f"without the cache: {baseline:.2f} s (median of {args.runs})")
    print(f"with the cache:    {cached:.2f} s (median of {args.runs})")
    print(f"ratio: {cached / baseline:.2f} of the baseline ({baseline / cached:.1f}x faster)")


if __name__ == "__main__":
    main()
