"""Replay commits as pull requests, and make for each review comment what a blind judge needs.

Usage:
    python benchmarks/replay.py COMMITS CLONES OUT [--select CODES] [--jobs N]

COMMITS holds ``owner/name sha`` lines (the held-out sample of ``benchmarks/precision.md``);
CLONES holds a git clone of each repository as ``owner+name`` (no work tree needed: ``git clone
--no-checkout``). Each commit is reviewed as the App reviews a push: ``debtbot diff`` against the
parent, with the configuration the repository has at that commit, findings on changed lines
only. The findings are grouped as the review groups them (one comment per rule and file), and
each comment becomes a packet in OUT/packets.jsonl with what a judge sees: the comment's
principle, title and message, the lines it points at, and the commit. The rule's documentation
is left out on purpose: the judge weighs the comment against the code and the principles.

Raw outputs go to OUT/raw/ (one JSON per commit). Nothing here prints a finding: a person tuning
the rules must not see the held-out findings before they are judged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def replay(repository: str, sha: str, clones: Path, raw: Path, select: list[str]) -> dict:
    target = raw / f"{repository.replace('/', '+')}-{sha[:12]}.json"
    if target.exists():
        return json.loads(target.read_text())
    clone = clones / repository.replace("/", "+")
    command = [sys.executable, "-m", "bot.cli.main", "diff", *select]
    command += ["--base", f"{sha}^", "--head", sha, "--format", "json", "--no-progress"]
    # Run from the clone so that paths come out relative to the repository, as in a review.
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A process per commit, started in the clone: the CLI as a person runs it, nothing cached.
    done = subprocess.run(  # debt: ignore[DEBT801]
        command, capture_output=True, text=True, cwd=clone, env=environment
    )
    try:
        if done.returncode not in (0, 1):
            raise ValueError
        report = json.loads(done.stdout)
    except ValueError:
        report = {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    target.write_text(json.dumps(report))
    return report


def packets(repository: str, sha: str, report: dict) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for finding in report.get("findings", ()):
        groups[finding["code"], finding["path"]].append(finding)
    made = []
    for (code, path), findings in sorted(groups.items()):
        findings.sort(key=lambda f: (f["line"], f["column"]))
        made.append(
            {
                "id": f"{repository}@{sha[:12]}:{code}:{path}",
                "repo": repository,
                "sha": sha,
                "path": path,
                "lines": [f["line"] for f in findings],
                "code": code,
                "title": findings[0]["name"],
                "principle": findings[0]["principle"],
                "messages": [f["message"] for f in findings],
            }
        )
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commits", type=Path)
    parser.add_argument("clones", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--select", help="only these rules (as debtbot's --select), e.g. to judge new rules apart"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="commits at once")
    arguments = parser.parse_args()
    raw = arguments.out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    commits = [
        line.split()[:2] for line in arguments.commits.read_text().splitlines() if line.strip()
    ]
    select = ["--select", arguments.select] if arguments.select else []
    with ThreadPoolExecutor(arguments.jobs) as pool:
        reports = pool.map(lambda c: replay(c[0], c[1], arguments.clones, raw, select), commits)
        every, failed = [], 0
        for (repository, sha), report in zip(commits, reports, strict=True):
            failed += "error" in report
            every.extend(packets(repository, sha, report))
    with (arguments.out / "packets.jsonl").open("w") as out:
        for packet in every:
            out.write(json.dumps(packet) + "\n")
    print(f"{len(every)} comments to judge; {failed} commits could not be replayed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
