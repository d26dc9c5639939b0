"""The in-process worker: one thread that runs recorded deliveries, oldest first.

The deliveries table is the queue. A delivery is claimed (running), handled, then finished (done,
ignored, failed, or pending again after a backoff). Nothing lives only in memory: a process killed
mid-job leaves the delivery running. While a job runs its worker refreshes the delivery's
``alive_at`` every third of the lease; every worker puts back in the queue the running
deliveries nobody refreshed for a whole lease. So a dead process's jobs are taken up again
within a lease, and the jobs of replicas that are alive are never taken from them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot import logs, store
from bot.analysis import AnalysisError
from bot.app.events import Route
from bot.domain import PayloadError
from bot.github import deadline
from bot.github.errors import GitHubError
from bot.github.mirror import MirrorError
from bot.metrics import DELIVERIES, JOB_SECONDS
from bot.services import Services
from bot.settings import DEFAULT_SHUTDOWN_GRACE_SECONDS, Settings

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000
DEFAULT_LEASE_SECONDS = 120.0


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 10.0  # before the second try; doubled for each further one
    max_backoff_seconds: float = 900.0
    # How long one try may spend on GitHub, its retries and waits included (bot.github.deadline).
    job_seconds: float = 600.0

    def delay(self, attempts: int) -> float:
        return min(self.backoff_seconds * 2 ** max(attempts - 1, 0), self.max_backoff_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.worker_max_attempts,
            settings.worker_backoff_seconds,
            job_seconds=settings.worker_job_seconds,
        )


def process_next(
    routes: Mapping[tuple[str, str], Route],
    services: Services,
    policy: RetryPolicy,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> bool:
    """Run one due delivery; False when there was none."""
    with services.sessions() as session:
        delivery = store.claim_next_delivery(session)
    if delivery is None:
        return False
    run_claimed(delivery, routes, services, policy, lease_seconds)
    return True


def run_claimed(
    delivery: store.Delivery,
    routes: Mapping[tuple[str, str], Route],
    services: Services,
    policy: RetryPolicy,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> str:
    """Run a delivery this worker has claimed, and record how it ended: the job of both the
    in-process worker and the Celery task. Returns done, ignored, failed, retried or lost."""
    session_factory = services.sessions
    route = routes.get((delivery.event, delivery.action))
    status, error = "done", None
    started = time.monotonic()
    if route is None:
        status = "ignored"  # recorded under an older table that handled it; nothing to do now
    else:
        try:
            with (
                logs.delivery(delivery.delivery_id),
                _beating(session_factory, delivery, lease_seconds / 3),
                deadline.job_deadline(policy.job_seconds),
            ):
                route.handler(json.loads(delivery.payload), services)
        except (PayloadError, json.JSONDecodeError) as failure:
            log.exception("delivery %s cannot be handled", delivery.delivery_id)
            status, error = "failed", _describe(failure)
        except (GitHubError, MirrorError, AnalysisError) as failure:
            # The world outside failed (GitHub, a remote, the mirror on disk, the machine that
            # killed an analysis): the message says what; a traceback would only show where the
            # call was made.
            log.warning(
                "delivery %s failed (attempt %d of %d): %s",
                delivery.delivery_id,
                delivery.attempts,
                policy.max_attempts,
                _describe(failure),
            )
            status, error = "pending", _describe(failure)
        except Exception as failure:
            log.exception(
                "delivery %s failed (attempt %d of %d)",
                delivery.delivery_id,
                delivery.attempts,
                policy.max_attempts,
            )
            status, error = "pending", _describe(failure)
    seconds = time.monotonic() - started
    JOB_SECONDS.labels(delivery.event).observe(seconds)
    status = _finish(session_factory, delivery, status, error, policy)
    log.info(
        "delivery %s (%s.%s, attempt %d): %s in %.2fs",
        delivery.delivery_id,
        delivery.event,
        delivery.action,
        delivery.attempts,
        status,
        seconds,
        extra={
            "delivery": delivery.delivery_id,
            "event": delivery.event,
            "action": delivery.action,
            "attempt": delivery.attempts,
            "outcome": status,
            "seconds": round(seconds, 3),
        },
    )
    return status


@contextmanager
def _beating(
    session_factory: sessionmaker[Session], delivery: store.Delivery, interval: float
) -> Iterator[None]:
    """Keep the delivery's lease while the body runs."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(interval):
            try:
                with session_factory() as session:
                    kept = store.heartbeat(session, delivery.id, attempt=delivery.attempts)
            except Exception:
                # The database is away; the next beat may reach it, and the job goes on.
                log.warning("could not renew the lease of delivery %s", delivery.id, exc_info=True)
                continue
            if not kept:
                # Thought dead (a long pause) and given to another worker, which runs it too.
                log.error("delivery %s: lease lost while running", delivery.delivery_id)
                return

    thread = threading.Thread(target=beat, name=f"debtbot-lease-{delivery.id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _finish(
    session_factory: sessionmaker[Session],
    delivery: store.Delivery,
    status: str,
    error: str | None,
    policy: RetryPolicy,
) -> str:
    """Record how the job ended; what became of the delivery (retried, failed, lost...)."""
    retry_at = None
    if status == "pending":
        if delivery.attempts >= policy.max_attempts:
            status = "failed"
        else:
            retry_at = store.utcnow() + timedelta(seconds=policy.delay(delivery.attempts))
    with session_factory() as session:
        kept = store.finish_delivery(
            session, delivery.id, status, error, retry_at=retry_at, attempt=delivery.attempts
        )
    if not kept:
        # Another worker took it over after our lease ran out; its outcome is the one that
        # counts, so ours is not written over it.
        log.error("delivery %s: finished after its lease was lost", delivery.delivery_id)
        status = "lost"
    status = "retried" if status == "pending" else status
    DELIVERIES.labels(delivery.event, status).inc()
    return status


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]


def requeue_abandoned(services: Services, policy: RetryPolicy, lease_seconds: float) -> int:
    """Put back in the queue what workers that died mid-job were running; how many."""
    alive_before = store.utcnow() - timedelta(seconds=lease_seconds)
    with services.sessions() as session:
        requeued = store.requeue_abandoned(session, alive_before, policy.max_attempts)
    if requeued:
        log.warning("took back %d deliveries whose worker died mid-job", requeued)
    return requeued


@dataclass(frozen=True)
class Worker:
    """Running worker threads; ``wake()`` them when new work is recorded, ``stop()`` them at
    exit."""

    threads: tuple[threading.Thread, ...]
    stopping: threading.Event = field(repr=False)
    work_arrived: threading.Event = field(repr=False)
    # The delivery each thread runs now, by thread name: what a stop gives back.
    running: dict[str, store.Delivery] = field(repr=False)
    sessions: sessionmaker[Session] = field(repr=False)

    @property
    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self.threads)

    def wake(self) -> None:
        self.work_arrived.set()

    def stop(self, grace_seconds: float = DEFAULT_SHUTDOWN_GRACE_SECONDS) -> bool:
        """Take no new job, give the running ones ``grace_seconds`` to end, then give back to
        the queue those still running, due at once: another process, or this one's next
        start, takes them up without waiting for their lease to run out. True when every job
        ended within the grace period. The threads are daemons, so one stuck in a call to
        GitHub does not keep the process alive."""
        self.stopping.set()
        self.work_arrived.set()
        deadline = time.monotonic() + grace_seconds
        for thread in self.threads:
            thread.join(max(deadline - time.monotonic(), 0))
        cut = list(self.running.values())
        for delivery in cut:
            try:
                with self.sessions() as session:
                    given_back = store.release_delivery(session, delivery.id, delivery.attempts)
            except Exception:
                # The store is away: the lease runs out instead, and a worker takes it up then.
                log.exception("could not give back delivery %s", delivery.delivery_id)
                continue
            if given_back:
                log.warning(
                    "stopping: delivery %s (%s.%s) given back to the queue mid-job",
                    delivery.delivery_id,
                    delivery.event,
                    delivery.action,
                )
        return not cut


def start_worker(
    routes: Mapping[tuple[str, str], Route],
    services: Services,
    policy: RetryPolicy,
    poll_seconds: float = 1.0,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    threads: int = 1,
) -> Worker:
    """Start ``threads`` worker threads, each running one delivery at a time; they also take
    up what dead processes left running."""
    stopping, work_arrived = threading.Event(), threading.Event()
    running: dict[str, store.Delivery] = {}
    swept = [float("-inf")]
    sweeping = threading.Lock()

    def sweep() -> None:
        with sweeping:
            if time.monotonic() - swept[0] < lease_seconds / 3:
                return
            swept[0] = time.monotonic()
        requeue_abandoned(services, policy, lease_seconds)

    def loop() -> None:
        name = threading.current_thread().name
        while not stopping.is_set():
            # Cleared before looking, so a wake-up that comes while a job runs is not lost.
            work_arrived.clear()
            try:
                sweep()
                with services.sessions() as session:
                    delivery = None if stopping.is_set() else store.claim_next_delivery(session)
            except Exception:
                # The store itself failed (database down): wait, then try again.
                log.exception("worker could not reach the store")
                delivery = None
            if delivery is None:
                work_arrived.wait(min(poll_seconds, lease_seconds / 3))
                continue
            running[name] = delivery
            try:
                run_claimed(delivery, routes, services, policy, lease_seconds)
            except Exception:
                log.exception("worker could not record how delivery %s ended", delivery.id)
            finally:
                running.pop(name, None)
            # Another thread may have work waiting that this one's wake-up took.
            work_arrived.set()

    # Daemon threads: a job stuck past the stop's grace must not keep the process alive.
    pool = tuple(
        threading.Thread(target=loop, name=f"debtbot-worker-{index}", daemon=True)
        for index in range(threads)
    )
    for thread in pool:
        thread.start()
    return Worker(pool, stopping, work_arrived, running, services.sessions)
