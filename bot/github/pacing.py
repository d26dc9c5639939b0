"""GitHub's limits are per installation, not per process: with several workers, the pause between
mutating calls and the wait after a rate limit must be kept by all of them together.

:class:`RedisPacing` keeps both in Redis, per installation: when the next write may be sent (each
write reserves its slot atomically, so two workers never write in the same second), and until when
GitHub asked the App to stop (a worker that is told so by a 403 or 429 writes it down, and every
worker waits it out before its next call). One process alone needs none of this: PyGithub's own
throttle and retry keep the limits, so no pacing is the default.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from redis.commands.core import Script

from bot.github import deadline
from bot.github.errors import RateLimited

log = logging.getLogger(__name__)

# Waits the whole cluster must keep for an installation: (milliseconds to wait, or 0).
# KEYS[1]: until when GitHub asked us to stop (ms since the epoch); KEYS[2]: the next free write
# slot. ARGV[1]: 1 for a write; ARGV[2]: the pause between writes in ms. Redis's own clock, so
# the workers' clocks need not agree.
_TURN = """
local now_s, now_us = unpack(redis.call('TIME'))
local now = now_s * 1000 + math.floor(now_us / 1000)
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if ARGV[1] == '1' then
  start = math.max(start, tonumber(redis.call('GET', KEYS[2]) or '0'))
  local pause = tonumber(ARGV[2])
  redis.call('SET', KEYS[2], start + pause, 'PX', start - now + pause + 1000)
end
return start - now
"""

# KEYS[1]: until when to stop; ARGV[1]: a moment (ms since the epoch), kept if it is later.
_STOP_UNTIL = """
local now_s = redis.call('TIME')[1]
local stop = tonumber(ARGV[1])
if stop > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], stop, 'PX', math.max(stop - now_s * 1000, 1) + 60000)
end
return 0
"""


@dataclass(frozen=True)
class RedisPacing:
    """Per-installation pacing shared by every process that uses the same Redis."""

    url: str
    seconds_between_writes: float = 1.0
    # A wait longer than this fails the call (RateLimited) so the job is retried later, rather
    # than holding a worker for the rest of the hour.
    max_wait: float = 900.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def wait_turn(self, installation_id: int, write: bool) -> float:
        """Wait until this installation may call GitHub (for a write: its own slot); the wait."""
        try:
            wait_ms = self._turn(
                keys=[_key(installation_id, "stop-until"), _key(installation_id, "next-write")],
                args=[int(write), int(self.seconds_between_writes * 1000)],
            )
        except redis.RedisError as error:
            # Pacing is a courtesy to GitHub; losing it for a moment must not stop the work.
            log.warning("pacing unavailable (Redis: %s); calling GitHub unpaced", error)
            return 0.0
        wait = wait_ms / 1000
        if wait > self.max_wait:
            raise RateLimited(
                f"GitHub asked installation {installation_id} to wait {wait:.0f} s more", 403
            )
        if wait > 0:
            deadline.ensure_time_for(wait, f"GitHub asked for a pause of {wait:.0f} s", 403)
            self.sleep(wait)
        return wait

    def stop_until(self, installation_id: int, epoch_seconds: float) -> None:
        """Tell every worker that GitHub wants no call for this installation before then."""
        try:
            self._stop(keys=[_key(installation_id, "stop-until")], args=[int(epoch_seconds * 1000)])
        except redis.RedisError as error:
            log.warning("could not share a rate limit through Redis: %s", error)

    def _turn(self, keys: list[str], args: list[int]) -> int:
        return int(_scripts(self.url)[0](keys=keys, args=args))

    def _stop(self, keys: list[str], args: list[int]) -> None:
        _scripts(self.url)[1](keys=keys, args=args)


def _key(installation_id: int, what: str) -> str:
    return f"debtbot:github:{installation_id}:{what}"


@functools.cache
def _scripts(url: str) -> tuple[Script, Script]:
    """The two scripts, on one connection pool per URL and process, made on first use (after
    a fork, in a Celery worker's child)."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
    return client.register_script(_TURN), client.register_script(_STOP_UNTIL)


def stop_until_from(headers: dict[str, str], status: int, now: float | None = None) -> float | None:
    """When GitHub's answer says to call again (epoch seconds), or None if it does not say.

    A 403 or 429 with ``Retry-After`` (secondary limits) or with no requests remaining and
    ``X-RateLimit-Reset`` (the primary limit).
    """
    if status not in (403, 429):
        return None
    lower = {name.lower(): value for name, value in headers.items()}
    now = time.time() if now is None else now
    retry_after = lower.get("retry-after", "")
    if retry_after.isdigit():
        return now + int(retry_after)
    if lower.get("x-ratelimit-remaining") == "0" and lower.get("x-ratelimit-reset", "").isdigit():
        return float(lower["x-ratelimit-reset"])
    return None
