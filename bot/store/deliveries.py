"""Deliveries: the durable job queue the webhook fills and the workers drain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import DELIVERY_STATUSES, Delivery, as_utc, utcnow

# Subjects of work that waits for everything else: the ledger's analyses of default branches.
# The in-process worker takes them last, and a Celery worker puts them back while other work
# is due, so that a backfill never keeps a review waiting.
BACKGROUND_SUBJECT = "background:"


def record_delivery(
    session: Session,
    delivery_id: str,
    event: str,
    action: str,
    payload_text: str,
    subject: str = "",
) -> int | None:
    """Store a delivery as pending and return its row id; None when this delivery id was
    already recorded."""
    delivery = Delivery(
        delivery_id=delivery_id,
        event=event,
        action=action or "",
        subject=subject,
        payload=payload_text,
    )
    session.add(delivery)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        known = session.scalar(select(Delivery.id).where(Delivery.delivery_id == delivery_id))
        if known is None:
            raise
        return None
    return delivery.id


def claim_next_delivery(session: Session, now: datetime | None = None) -> Delivery | None:
    """Mark the oldest due pending delivery running and return it; None when there is none.

    Safe with several workers: PostgreSQL skips rows another transaction has locked, and the
    conditional UPDATE (status still pending) decides any race on SQLite. A delivery whose
    subject already has a running job waits for it.
    """
    now = now or utcnow()
    busy = (
        select(Delivery.subject)
        .where(Delivery.status == "running", Delivery.subject != "")
        .scalar_subquery()
    )
    candidates = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            (Delivery.subject == "") | Delivery.subject.not_in(busy),
        )
        # Oldest received first (pushes are reviewed in order), background work after the rest.
        .order_by(Delivery.subject.startswith(BACKGROUND_SUBJECT), Delivery.id)
        .limit(5)
        .with_for_update(skip_locked=True)
    )
    for delivery_id in session.scalars(candidates).all():
        claimed = _try_claim(session, delivery_id, now)
        if claimed is not None:
            return claimed
    session.rollback()
    return None


def claim_delivery(
    session: Session, delivery_id: int, now: datetime | None = None
) -> tuple[Delivery | None, str]:
    """Mark one delivery running, for a worker that was told which one to run (Celery).

    Returns the claimed delivery and ``"claimed"``; or None and why not: ``"waiting"`` when it
    is not due yet or a job for the same subject runs (ask again soon), ``"running"`` when a
    worker runs it, ``"ended"`` when it is finished or unknown.
    """
    now = now or utcnow()
    row = session.execute(
        select(Delivery.status, Delivery.next_attempt_at, Delivery.subject).where(
            Delivery.id == delivery_id
        )
    ).first()
    if row is None or row.status not in ("pending", "running"):
        session.rollback()
        return None, "ended"
    if row.status == "running":
        session.rollback()
        return None, "running"
    if as_utc(row.next_attempt_at) > now:
        session.rollback()
        return None, "waiting"
    if row.subject.startswith(BACKGROUND_SUBJECT) and _foreground_due(session, now):
        session.rollback()
        return None, "waiting"
    if row.subject:
        busy = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status == "running", Delivery.subject == row.subject)
        )
        if busy:
            session.rollback()
            return None, "waiting"
    claimed = _try_claim(session, delivery_id, now)
    if claimed is None:
        # Lost a race: another worker claimed it, or a job for its subject started.
        return None, "waiting"
    return claimed, "claimed"


def _foreground_due(session: Session, now: datetime) -> bool:
    return (
        session.scalar(
            select(Delivery.id)
            .where(
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
                Delivery.subject.not_like(f"{BACKGROUND_SUBJECT}%"),
            )
            .limit(1)
        )
        is not None
    )


def overdue_deliveries(session: Session, due_before: datetime, limit: int = 1000) -> list[int]:
    """Pending deliveries due since before ``due_before``, oldest first: work whose message to a
    worker was lost (the broker was down when it arrived, or a retry's message went astray)."""
    return list(
        session.scalars(
            select(Delivery.id)
            .where(Delivery.status == "pending", Delivery.next_attempt_at < due_before)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def _try_claim(session: Session, delivery_id: int, now: datetime) -> Delivery | None:
    statement = (
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "pending")
        .values(status="running", attempts=Delivery.attempts + 1, alive_at=now)
    )
    try:
        changed = session.execute(statement).rowcount
        session.commit()
    except IntegrityError:
        # Another worker started a job for the same subject in the meantime.
        session.rollback()
        return None
    if changed != 1:
        return None
    return session.get(Delivery, delivery_id, populate_existing=True)


def _running_attempt(delivery_id: int, attempt: int | None):
    """The delivery, as long as the claim that made ``attempt`` still runs it: a worker whose
    lease ran out must not touch what another worker now runs."""
    held = (Delivery.id == delivery_id) & (Delivery.status == "running")
    return held if attempt is None else held & (Delivery.attempts == attempt)


def finish_delivery(
    session: Session,
    delivery_id: int,
    status: str,
    error: str | None = None,
    retry_at: datetime | None = None,
    attempt: int | None = None,
) -> bool:
    """Close a claimed delivery: done, failed or ignored; or ``pending`` again with ``retry_at``.

    ``attempt``: the claim's attempt number; False when that claim no longer holds it.
    """
    if status not in DELIVERY_STATUSES or status == "running":
        raise ValueError(f"cannot finish a delivery as {status!r}")
    values: dict[str, object] = {"status": status, "last_error": error}
    if status == "pending":
        values["next_attempt_at"] = retry_at or utcnow()
    else:
        values["finished_at"] = utcnow()
    changed = session.execute(
        update(Delivery).where(_running_attempt(delivery_id, attempt)).values(**values)
    ).rowcount
    session.commit()
    return changed == 1


def release_delivery(session: Session, delivery_id: int, attempt: int) -> bool:
    """Give back a delivery its worker is stopping in the middle of: due again at once, for
    another process or the next start. The cut attempt counts as one, so a job that stops
    every process that runs it still ends. False when that claim no longer holds it."""
    changed = session.execute(
        update(Delivery)
        .where(_running_attempt(delivery_id, attempt))
        .values(
            status="pending",
            next_attempt_at=utcnow(),
            last_error="its worker stopped in the middle of it (a deploy or restart)",
        )
    ).rowcount
    session.commit()
    return changed == 1


def heartbeat(
    session: Session, delivery_id: int, now: datetime | None = None, attempt: int | None = None
) -> bool:
    """Show that the worker running a delivery is alive; False when that claim does not run it
    any more (finished, or taken back after its worker was thought dead)."""
    changed = session.execute(
        update(Delivery)
        .where(_running_attempt(delivery_id, attempt))
        .values(alive_at=now or utcnow())
    ).rowcount
    session.commit()
    return changed == 1


def requeue_abandoned(session: Session, alive_before: datetime, max_attempts: int) -> int:
    """Put back in the queue the running deliveries whose worker has not shown itself alive
    since ``alive_before``: their process died. One that has had ``max_attempts`` tries fails
    instead, since a job that kills its process would otherwise take down worker after worker.
    Safe to call from every worker at any time."""
    abandoned = _abandoned(alive_before)
    now = utcnow()
    failed = session.execute(
        update(Delivery)
        .where(abandoned, Delivery.attempts >= max_attempts)
        .values(
            status="failed",
            finished_at=now,
            last_error="its worker died on every try (killed, out of memory, or crashed)",
        )
    ).rowcount
    requeued = session.execute(
        update(Delivery).where(abandoned).values(status="pending", next_attempt_at=now)
    ).rowcount
    session.commit()
    return failed + requeued


def abandoned_deliveries(session: Session, alive_before: datetime) -> list[int]:
    """The running deliveries whose worker has not shown itself alive since ``alive_before``."""
    return list(session.scalars(select(Delivery.id).where(_abandoned(alive_before))))


def _abandoned(alive_before: datetime):
    return (Delivery.status == "running") & (
        Delivery.alive_at.is_(None) | (Delivery.alive_at < alive_before)
    )


def delivery_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}
