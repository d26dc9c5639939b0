"""Engine speed against libcst's parse alone, on a real repository's Python files.

    python benchmarks/engine.py PATH [--repeat N]

PATH is a folder of Python code, e.g. a snapshot of ultralytics/yolov5 extracted to a temp
folder. Both measurements run in this one process on the same files already in memory, best of
N runs each, alternating so that machine noise hits both alike. Target: a full check at no less
than half the parse-only rate (ratio >= 0.5).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import libcst as cst

from rules.engine.config import default_config
from rules.engine.scanner import scan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root: Path = args.path
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}
    if not files:
        print(f"no Python files below {root}", file=sys.stderr)
        return 2
    lines = sum(len(data.decode("utf-8", "replace").splitlines()) for data in files.values())
    config = default_config()
    sources = [(path, (lambda d=data: d)) for path, data in files.items()]

    def parse_only() -> None:
        for data in files.values():
            with contextlib.suppress(cst.ParserSyntaxError, UnicodeDecodeError):
                cst.parse_module(data.decode("utf-8-sig"))

    def full_check() -> int:
        return len(scan(sources, config, frozenset(files)).findings)

    parse_times, check_times = [], []
    findings = 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        parse_only()
        parse_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        findings = full_check()
        check_times.append(time.perf_counter() - started)

    parse_best, check_best = min(parse_times), min(check_times)
    print(
        f"files: {len(files)}, lines: {lines}, rules: {len(config.enabled)}, findings: {findings}"
    )
    print(f"libcst parse only: {parse_best:.2f} s, {lines / parse_best:,.0f} lines/s")
    print(f"debtbot check:     {check_best:.2f} s, {lines / check_best:,.0f} lines/s")
    print(f"ratio (check rate / parse rate): {parse_best / check_best:.2f} (target >= 0.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
