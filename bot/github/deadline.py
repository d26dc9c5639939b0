"""How long a job may spend on GitHub, waits and retries included.

A worker runs each job under :func:`job_deadline`. Every call to GitHub, every retry and every
wait for a rate limit or a pause first asks :func:`ensure_time_for`: when the wait would end past
the job's deadline, the call fails at once with :class:`~bot.github.errors.OutOfTime`, and the
job goes back to the queue with a backoff instead of holding its worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from bot.github.errors import OutOfTime

# When the running job's time ends (time.monotonic()); None outside a job (the command line,
# tests). A context variable: each worker thread runs its own job.
_ENDS: ContextVar[float | None] = ContextVar("debtbot_job_ends", default=None)


@contextmanager
def job_deadline(seconds: float) -> Iterator[None]:
    token = _ENDS.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _ENDS.reset(token)


def ensure_time_for(wait: float, what: str, status: int | None = None) -> None:
    """Raise OutOfTime when waiting ``wait`` seconds (then calling) would end past the job's
    deadline."""
    ends = _ENDS.get()
    if ends is None:
        return
    left = ends - time.monotonic()
    if wait >= left:
        raise OutOfTime(
            f"{what}: the job has {max(left, 0):.0f} s left for GitHub, so it is tried again later",
            status,
        )
