"""The work on Celery with a Redis broker, for organisations that outgrow one process
(``REDIS_URL`` set; ``debtbot worker`` starts a worker).

The store stays the record of every delivery. The webhook records it as before, then sends its
id through Redis instead of waking the in-process worker. A Celery worker claims that delivery in
the store and runs the same job as the in-process worker (``worker.run_claimed``). The claim is
what makes effects happen once: a duplicated message, a message re-delivered after its worker
died, or two workers racing for one delivery find it claimed or finished and do nothing.

Messages are acknowledged late, so a worker killed mid-job leaves its message with Redis, which
hands it out again after the visibility timeout. The store's lease does not wait that long: beat's
sweep (every third of a lease) puts back the deliveries whose worker stopped showing signs of life
and sends them out again, and re-sends deliveries whose message never reached Redis (it was down
when the webhook came). Any number of workers may run beat: the sweep is safe to repeat, and each
account's weekly summary is claimed in the store, so one worker posts it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache

from celery import Celery, Task

from bot import store
from bot.app import events, worker
from bot.services import Services
from bot.settings import Settings
from bot.summaries import schedule

log = logging.getLogger(__name__)

RUN_DELIVERY = "debtbot.run_delivery"
SWEEP = "debtbot.sweep"
SUMMARIES = "debtbot.summaries"
# How soon a delivery that must wait (its pull request's previous push is being reviewed, or
# its retry is not due) is looked at again.
WAIT_SECONDS = 2.0
# Publishing gives up quickly when Redis is away: the delivery is recorded, the sweep sends it.
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


@dataclass
class _Runtime:
    """What a worker process builds once, after Celery forked it (connections do not survive a
    fork)."""

    services: Services
    policy: worker.RetryPolicy
    summary_configs: schedule.ConfigCache = field(default_factory=dict)


def make_celery(settings: Settings) -> Celery:
    """The Celery app of these settings, with debtbot's three tasks and beat's schedule."""
    if not settings.redis_url:
        raise ValueError("REDIS_URL is not set: the work runs in the web process")
    app = Celery("debtbot", broker=settings.redis_url, set_as_current=False)
    lease = settings.worker_lease_seconds
    schedule_ = {SWEEP: {"task": SWEEP, "schedule": max(lease / 3, 0.2)}}
    if settings.summaries:
        schedule_[SUMMARIES] = {"task": SUMMARIES, "schedule": settings.summary_check_seconds}
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One message at a time per worker process: a long review must not hold others back.
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        worker_hijack_root_logger=False,
        beat_schedule=schedule_,
    )

    @cache
    def runtime() -> _Runtime:
        engine = store.make_engine(settings.database_url)
        services = Services.from_settings(settings, store.make_session_factory(engine))
        services = replace(services, enqueue=sender(app))
        return _Runtime(services, worker.RetryPolicy.from_settings(settings))

    @app.task(name=RUN_DELIVERY, bind=True, max_retries=None)
    def run_delivery(task: Task, delivery_id: int) -> str:
        here = runtime()
        with here.services.sessions() as session:
            delivery, why = store.claim_delivery(session, delivery_id)
        if delivery is None:
            if why == "waiting":
                raise task.retry(countdown=WAIT_SECONDS)
            return why  # finished, or another worker runs it (if it dies, the sweep tells)
        outcome = worker.run_claimed(delivery, events.ROUTES, here.services, here.policy, lease)
        if outcome == "retried":
            task.apply_async(
                (delivery_id,),
                countdown=here.policy.delay(delivery.attempts),
                retry=True,
                retry_policy=_PUBLISH_RETRY,
            )
        return outcome

    @app.task(name=SWEEP)
    def sweep() -> int:
        here = runtime()
        alive_before = store.utcnow() - timedelta(seconds=lease)
        with here.services.sessions() as session:
            resend = store.abandoned_deliveries(session, alive_before)
        worker.requeue_abandoned(here.services, here.policy, lease)
        with here.services.sessions() as session:
            resend += store.overdue_deliveries(session, alive_before)
        for delivery_id in dict.fromkeys(resend):
            run_delivery.apply_async((delivery_id,), retry=True, retry_policy=_PUBLISH_RETRY)
        return len(resend)

    @app.task(name=SUMMARIES)
    def summaries() -> int:
        here = runtime()
        return len(schedule.run_due_summaries(here.services, here.summary_configs))

    return app


def sender(app: Celery):
    """What the webhook calls with each recorded delivery's id: send it to the workers. A broker
    that cannot be reached is logged, not raised: the delivery is recorded, and the sweep sends
    it once Redis is back."""

    def send(delivery_id: int) -> None:
        try:
            app.send_task(
                RUN_DELIVERY, args=(delivery_id,), retry=True, retry_policy=_PUBLISH_RETRY
            )
        except Exception as error:
            log.warning("delivery %s recorded but not sent to the workers: %s", delivery_id, error)

    return send


def run_worker(settings: Settings, concurrency: int | None, beat: bool, pool: str) -> int:
    """Run a Celery worker until it is stopped; its exit status."""
    app = make_celery(settings)
    argv = ["worker", f"--pool={pool}", "--loglevel=INFO", "-Q", settings.celery_queue]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        schedule_file = settings.data_dir / "celerybeat-schedule"
        schedule_file.parent.mkdir(parents=True, exist_ok=True)
        argv += ["--beat", f"--schedule={schedule_file}"]
    try:
        app.worker_main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    return 0
