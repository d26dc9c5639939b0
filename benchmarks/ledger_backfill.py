"""What the ledger's first analysis of a large repository costs, and what it makes reviews wait.

Usage, from the repository's root: python -m benchmarks.ledger_backfill REPO [--chunk N]

REPO is a git work tree (fetch a large one yourself: ludwig has 165k lines). In one run:
- the baseline: the engine over every file of the default branch's head in one go, as one job
  without chunks would hold a worker (and as ``debtbot check`` reads it);
- the backfill as the App does it: the installation's delivery, then the ledger's jobs of
  ``--chunk`` files (LEDGER_CHUNK_FILES), each run by ``process_next`` as the worker runs it,
  against the simulated GitHub of the tests and the repository as a local remote;
- a review arriving during the backfill: a foreground delivery recorded after the first chunk,
  and how long it waits before a worker starts it.
Prints the times and their ratios to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bot import store
from bot.analysis import analyse_at, configs_at
from bot.app import events
from bot.app.events import Route
from bot.app.worker import RetryPolicy, process_next
from bot.github import mirror as gitmirror
from rules.engine import scanner
from tests.fakes.github import running_fake_github

FULL_NAME = "bench/repository"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path)
    parser.add_argument("--chunk", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_fake_github() as fake:
        tmp = Path(folder)
        remote = tmp / "git" / f"{FULL_NAME}.git"
        branch = _git(args.repo, "rev-parse", "--abbrev-ref", "HEAD")
        subprocess.run(
            ["git", "clone", "--quiet", "--bare", "--local", str(args.repo), str(remote)],
            check=True,
        )
        fake.add_repository(FULL_NAME, installation_id=1, default_branch=branch)
        engine = store.make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        store.create_schema(engine)
        services = fake.services(
            store.make_session_factory(engine),
            tmp / "data",
            git_url=str(tmp / "git"),
            ledger_chunk_files=args.chunk,
        )
        baseline = _whole(services, branch)
        started_at: dict[str, float] = {}
        routes = {
            **events.ROUTES,
            ("bench", "review"): Route(
                lambda payload, services: started_at.setdefault(payload["id"], time.perf_counter()),
                None,
                lambda payload: f"bench#{payload['id']}",
            ),
        }
        with services.sessions() as session:
            store.record_delivery(
                session, "install", "installation", "created",
                json.dumps(fake.installation_event(1)), "installation:1",
            )  # fmt: skip
        policy = RetryPolicy(max_attempts=1, backoff_seconds=0)
        jobs: list[float] = []
        queued_at: dict[str, float] = {}

        def review_arrives(number: int) -> None:
            # A pull request pushed while a ledger job runs: recorded 50 ms into the job.
            time.sleep(0.05)
            with services.sessions() as session:
                store.record_delivery(
                    session, f"review-{number}", "bench", "review",
                    json.dumps({"id": str(number)}), f"bench#{number}",
                )  # fmt: skip
            queued_at[str(number)] = time.perf_counter()

        begun = time.perf_counter()
        previous_was_review = True  # the first job, the installation's, gets no review
        while True:
            # A review arrives during each ledger job (not during the reviews themselves).
            arriving = None
            if not previous_was_review and not _ledger_done(services):
                arriving = threading.Thread(target=review_arrives, args=(len(jobs),))
                arriving.start()
            reviews_before = len(started_at)
            job_started = time.perf_counter()
            ran = process_next(routes, services, policy)
            if arriving is not None:
                arriving.join()
            if not ran:
                break
            previous_was_review = len(started_at) > reviews_before
            if not previous_was_review:
                jobs.append(time.perf_counter() - job_started)
        total = time.perf_counter() - begun
        with services.sessions() as session:
            (commit,) = store.ledger_commits(session, FULL_NAME)
            failed = store.delivery_counts(session).get("failed", 0)
        waits = [started_at[k] - queued_at[k] for k in queued_at if k in started_at]
        ledger_jobs = jobs
        print(f"repository: {args.repo} ({commit.files} files analysed, {commit.open_count} open)")
        print(f"baseline, every file in one go: {baseline:.2f} s")
        print(f"backfill in {len(ledger_jobs)} jobs of {args.chunk} files: {total:.2f} s "
              f"({total / baseline:.2f}x the baseline)")  # fmt: skip
        print(f"longest job: {max(jobs):.2f} s ({max(jobs) / baseline:.2f}x the baseline)")
        print(f"{len(waits)} reviews, each arriving 50 ms into a ledger job, waited at most "
              f"{max(waits):.2f} s ({max(waits) / baseline:.2f}x the baseline, the wait one "
              f"unchunked job would cause); median {statistics.median(waits):.2f} s")  # fmt: skip
        if failed:
            raise SystemExit(f"{failed} deliveries failed")


def _ledger_done(services) -> bool:
    with services.sessions() as session:
        return bool(store.ledger_commits(session, FULL_NAME)) and (
            store.running_ledger_commit(session, FULL_NAME) is None
        )


def _whole(services, branch: str) -> float:
    mirror = services.mirrors.ensure(FULL_NAME)
    tip = gitmirror.fetch_branch(mirror, branch, None)
    files = gitmirror.list_files(mirror, tip)
    selected = [p for _, group in configs_at(mirror, tip, files) for p in group]
    started = time.perf_counter()
    analyse_at(mirror, tip, selected, facts_cache=None)
    seconds = time.perf_counter() - started
    scanner._FACTS_CACHE.clear()  # the backfill after it starts as cold as it would
    return seconds


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


if __name__ == "__main__":
    main()
