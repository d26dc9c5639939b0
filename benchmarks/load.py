"""A sustained stream of signed pull-request webhooks, against the App scaled out and against one
process, in the same run.

Usage: python benchmarks/load.py [--rate 200] [--seconds 30] [--heads 5] [--drain 60]
       [--runs 1] [--setups scaled,single]

Issue 15's check is ``--setups single --seconds 60 --runs 5``: p99 under 50 ms in every run.

On loopback: the simulated GitHub of the tests (tests/fakes/github) with six installations, and a
git server holding their repositories, with an open pull request (adding a file with findings)
for every delivery to be sent; then, one after the other:

- ``scaled``: two ``debtbot serve`` web replicas with ``REDIS_URL`` set, and two ``debtbot
  worker`` processes, on a fresh PostgreSQL schema (the PostgreSQL and Redis of this machine).
  On one machine the workers' reviews would take the web replicas' CPU, which in a deployment
  they do not share: the workers run at ``nice 10`` so that the acknowledgement measures the web
  path;
- ``single`` (the baseline): one ``debtbot serve`` on SQLite, doing the work in its own process.

Each receives ``--rate`` deliveries a second for ``--seconds`` (``pull_request.opened``, each of
another pull request, sent round-robin to the web replicas),
then up to ``--drain`` seconds to finish the work. Reported per setup: acknowledgement latency
(median and p99), deliveries lost (acknowledged but not in the store, or never acknowledged), the
rate actually sent, and jobs finished per minute (reviews that posted, and reviews that found
their head already reviewed), with the ratio of the two setups.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
# The simulated GitHub and git server live in tests/, which is not an installed package.
sys.path.insert(0, str(ROOT))  # debt: ignore[DEBT702]

from bot import store  # noqa: E402
from bot.app.webhooks import signature  # noqa: E402
from tests.bot.app.test_end_to_end import NEW, Remote, serving_git  # noqa: E402
from tests.fakes.github import running_fake_github  # noqa: E402

# Six installations: GitHub's write limits are per installation.
ACCOUNTS = tuple(f"org{n}" for n in range(1, 7))
SECRET = "load-secret"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Result:
    name: str
    sent: int
    seconds: float
    latencies: list[float]
    failed_acks: int
    lost: int
    done: int
    drained_after: float
    reviews_posted: int
    stopped_in: float

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]

    def line(self) -> str:
        median = statistics.median(self.latencies) * 1000
        p99 = self.p99 * 1000
        per_minute = self.done / (self.drained_after / 60)
        rate = self.sent / self.seconds
        return (
            f"{self.name:7} sent {self.sent} in {self.seconds:.1f}s ({rate:.0f}/s)"
            f"  ack median {median:.1f} ms  p99 {p99:.1f} ms  not acknowledged {self.failed_acks}"
            f"  lost {self.lost}  jobs done {self.done} in {self.drained_after:.0f}s"
            f" ({per_minute:.0f}/min)  reviews posted {self.reviews_posted}"
            f"  stopped {self.stopped_in:.1f}s after SIGTERM"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(
    command: list[str], environment: dict[str, str], log: Path, nice: int = 0
) -> subprocess.Popen:
    with log.open("ab") as out:
        # Separate processes are what is measured: replicas and workers, as they are deployed.
        return subprocess.Popen(  # debt: ignore[DEBT801]
            [sys.executable, "-m", "bot.cli.main", *command],
            cwd=log.parent,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Workers yield the CPU to the web replicas, as on machines of their own.
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )


def wait_healthy(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"a server on port {port} exited at start")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not start")


def stop(processes: list[subprocess.Popen]) -> float:
    """SIGTERM to every process, as a deploy does; seconds until the last one was gone."""
    told = time.perf_counter()
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
    return time.perf_counter() - told


def send_stream(
    ports: list[int], bodies: list[bytes], rate: float, seconds: float, threads: int = 32
) -> tuple[list[str], list[float], int, float]:
    """Send ``rate`` deliveries a second for ``seconds`` from ``threads`` keep-alive connections;
    the ids acknowledged, the latencies, how many were not acknowledged, and how long sending
    took. Each delivery leaves at its own time (an open loop), unless its thread is still
    waiting for an earlier answer: then the rate sent falls short, and the report shows it."""
    total = int(rate * seconds)
    acknowledged: list[str] = []
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    began = time.perf_counter() + 0.2
    last_sent = [began]

    def sender(first: int) -> None:
        connections = {
            port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in ports
        }
        for index in range(first, total, threads):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body, port = bodies[index % len(bodies)], ports[index % len(ports)]
            delivery = str(uuid.uuid4())
            headers = {
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": signature(SECRET, body),
                "Content-Type": "application/json",
            }
            started = time.perf_counter()
            try:
                connection = connections[port]
                connection.request("POST", "/webhook", body=body, headers=headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    failures[0] += 1
                continue
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                last_sent[0] = max(last_sent[0], started)
                if answer.status == 202:
                    acknowledged.append(delivery)
                else:
                    failures[0] += 1
        for connection in connections.values():
            connection.close()

    pool = [threading.Thread(target=sender, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return acknowledged, latencies, failures[0], last_sent[0] - began


def finished(database_url: str) -> tuple[int, int]:
    engine = store.make_engine(database_url)
    try:
        with store.make_session_factory(engine)() as session:
            counts = store.delivery_counts(session)
    finally:
        engine.dispose()
    return counts.get("done", 0), counts.get("pending", 0) + counts.get("running", 0)


def recorded(database_url: str, ids: list[str]) -> int:
    engine = store.make_engine(database_url)
    try:
        with store.make_session_factory(engine)() as session:
            known = set(session.scalars(select(store.Delivery.delivery_id)))
    finally:
        engine.dispose()
    return sum(1 for delivery in ids if delivery in known)


def run_setup(name, ports, processes, database_url, bodies, args, fake) -> Result:
    reviews_before = len(fake.requests_to("POST", r"/repos/[^/]+/[^/]+/pulls/\d+/reviews"))
    began = time.perf_counter()
    acknowledged, latencies, failures, sent_in = send_stream(ports, bodies, args.rate, args.seconds)
    while time.perf_counter() - began < args.seconds + args.drain:
        _, waiting = finished(database_url)
        if waiting == 0:
            break
        time.sleep(1)
    drained_after = time.perf_counter() - began
    done, _ = finished(database_url)
    stopped_in = stop(processes)
    lost = len(acknowledged) - recorded(database_url, acknowledged)
    reviews = len(fake.requests_to("POST", r"/repos/[^/]+/[^/]+/pulls/\d+/reviews"))
    reviews -= reviews_before
    total = int(args.rate * args.seconds)
    return Result(
        name,
        total,
        sent_in,
        latencies,
        failures,
        lost + failures,
        done,
        drained_after,
        reviews,
        stopped_in,
    )


def build_world(fake, work: Path, name: str, count: int, heads: int) -> list[bytes]:
    """``count`` open pull requests numbered from ``first``, spread over the repositories (one
    installation each), with ``heads`` distinct head commits per repository; the webhook body of
    each. Every delivery of a run is then a pull request of its own, as in an organisation."""
    bodies = []
    for index, account in enumerate(ACCOUNTS):
        full_name = f"{account}/{name}"
        remote = Remote(work, full_name)
        base = remote.commit({"pkg/__init__.py": "", "pkg/old.py": "x = 1\n"}, "main")
        shas = []
        for head in range(heads):
            remote.work.git.checkout("-B", f"topic{head}", base)
            shas.append(remote.commit({f"pkg/new_{head}.py": NEW}, f"topic{head}"))
        numbers = range(1 + index, 1 + count, len(ACCOUNTS))
        # One update-ref for thousands of refs/pull/N/head: pushing them one by one takes minutes.
        refs = "".join(f"update refs/pull/{n}/head {shas[n % heads]}\n" for n in numbers)
        subprocess.run(
            ["git", "update-ref", "--stdin"], input=refs, text=True, check=True,
            cwd=remote.bare.git_dir,
        )  # fmt: skip
        remote.bare.git.update_server_info()
        fake.add_installation(index + 1, account=account)
        fake.add_repository(full_name, installation_id=index + 1)
        for n in numbers:
            head = n % heads
            fake.add_pull(
                full_name, n, shas[head], base, commentable={f"pkg/new_{head}.py": range(1, 12)}
            )
            bodies.append(json.dumps(fake.pull_request_event(full_name, n, "opened")).encode())
    return bodies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--heads", type=int, default=5, help="head commits per repository")
    parser.add_argument("--drain", type=float, default=60)
    parser.add_argument("--runs", type=int, default=1, help="runs of each setup")
    parser.add_argument(
        "--setups", default="scaled,single", help="which setups, comma-separated, in order"
    )
    args = parser.parse_args()
    setups = [name.strip() for name in args.setups.split(",") if name.strip()]
    if not setups or set(setups) - {"scaled", "single"}:
        parser.error("--setups takes scaled, single or both")
    results = measure(setups, args)
    for name, runs in results.items():
        worst = max(runs, key=lambda r: r.p99)
        print(
            f"{name}: p99 per run {', '.join(f'{r.p99 * 1000:.1f}' for r in runs)} ms; "
            f"worst {worst.p99 * 1000:.1f} ms; lost {sum(r.lost for r in runs)}"
        )
    if set(results) == {"scaled", "single"}:
        scaled, single = results["scaled"][0], results["single"][0]
        latency = statistics.median(scaled.latencies) / statistics.median(single.latencies)
        throughput = (scaled.done / scaled.drained_after) / (single.done / single.drained_after)
        print(f"scaled / single: ack median {latency:.2f}x, jobs per minute {throughput:.2f}x")
    return 0


def measure(setups: list[str], args: argparse.Namespace) -> dict[str, list[Result]]:
    """``args.runs`` runs of each setup, in order, each with pull requests of its own. ``args``
    carries rate, seconds, heads and drain (see the command line)."""
    deliveries = int(args.rate * args.seconds)
    work = Path(tempfile.mkdtemp(prefix="debtbot-load-"))
    queue = f"debtbot-load-{uuid.uuid4().hex[:10]}"
    schemas: list[str] = []
    results: dict[str, list[Result]] = {name: [] for name in setups}
    with running_fake_github() as fake, serving_git(work) as git_url:
        environment = {
            **os.environ,
            **fake.environment(),
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_URL": git_url,
            "PUBLIC_URL": "https://debtbot.example.com",
            "SUMMARIES": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        for run in range(args.runs):
            for name in setups:
                # Each run gets pull requests of its own: a review another posted changes
                # nothing.
                bodies = build_world(fake, work, f"{name}{run}", deliveries, args.heads)
                start_setup = run_scaled if name == "scaled" else run_single
                result = start_setup(work / f"{name}{run}", environment, bodies, args, fake, queue)
                if name == "scaled":
                    schemas.append(result[1])
                    result = result[0]
                print(f"run {run + 1}: {result.line()}", flush=True, file=sys.stderr)
                results[name].append(result)

    if schemas:
        with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        redis.Redis.from_url(REDIS).delete(queue)
    shutil.rmtree(work, ignore_errors=True)
    return results


def run_scaled(work: Path, environment, bodies, args, fake, queue) -> tuple[Result, str]:
    """Two web replicas and two Celery workers on a fresh PostgreSQL schema."""
    work.mkdir(parents=True)
    schema = f"debtbot_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    postgres_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    store.upgrade_schema(store.make_engine(postgres_url))
    scaled_env = {
        **environment,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": REDIS,
        "CELERY_QUEUE": queue,
    }
    ports = [free_port(), free_port()]
    processes = []
    for index, port in enumerate(ports):
        data = {**scaled_env, "DATA_DIR": str(work / f"web{index}")}
        server = start(["serve", "--port", str(port)], data, work / f"web{index}.log")
        processes.append(server)
        wait_healthy(port, server)
    for index in range(2):
        data = {**scaled_env, "DATA_DIR": str(work / f"worker{index}")}
        processes.append(start(["worker"], data, work / f"worker{index}.log", nice=10))
    return run_setup("scaled", ports, processes, postgres_url, bodies, args, fake), schema


def run_single(work: Path, environment, bodies, args, fake, queue) -> Result:
    """One ``debtbot serve`` on SQLite, with its own worker (the baseline)."""
    work.mkdir(parents=True)
    sqlite_url = f"sqlite:///{work}/single.sqlite3"
    single_env = {**environment, "DATABASE_URL": sqlite_url, "DATA_DIR": str(work / "data")}
    port = free_port()
    server = start(["serve", "--port", str(port)], single_env, work / "single.log")
    wait_healthy(port, server)
    return run_setup("single", [port], [server], sqlite_url, bodies, args, fake)


if __name__ == "__main__":
    sys.exit(main())
