"""Prometheus metrics of the App, served at ``GET /metrics``.

Other modules import these objects and update them where things happen; label sets are kept
small (no repository names, no shas) so the number of series stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)

# status: received, duplicate, ignored, rejected (at the webhook); done, failed, retried,
# ignored, lost (finished after another worker took it over) (on the worker).
DELIVERIES = Counter(
    "debtbot_deliveries_total",
    "Webhook deliveries by event and what became of them.",
    ("event", "status"),
    registry=REGISTRY,
)
QUEUE = Gauge(
    "debtbot_queue_deliveries",
    "Deliveries in the store by status, read at each scrape.",
    ("status",),
    registry=REGISTRY,
)
# outcome: e.g. posted, nothing-new, skipped-draft, skipped-bot, stale-head.
REVIEWS = Counter(
    "debtbot_reviews_total",
    "Pull request reviews by outcome.",
    ("outcome",),
    registry=REGISTRY,
)
FINDINGS = Counter(
    "debtbot_findings_total",
    "Findings on changed lines, by principle and severity.",
    ("principle", "severity"),
    registry=REGISTRY,
)
REVIEW_SECONDS = Histogram(
    "debtbot_review_seconds",
    "Time to review one pull request head, from the job's start to the check run.",
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
GITHUB_CALLS = Counter(
    "debtbot_github_calls_total",
    "Calls to the GitHub API by operation (get_pull, create_review, ...) and outcome (ok, error).",
    ("operation", "outcome"),
    registry=REGISTRY,
)


class LatestValue:
    """A gauge with no value, and so no sample, until it is first set. A plain gauge reads 0 at
    every start, which for a rate limit would say "exhausted" before any call was made."""

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry) -> None:
        self.name, self.documentation = name, documentation
        self.value: float | None = None
        registry.register(self)

    def set(self, value: float) -> None:
        self.value = value

    def describe(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily(self.name, self.documentation)]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.value is not None:
            yield GaugeMetricFamily(self.name, self.documentation, value=self.value)


RATE_LIMIT_REMAINING = LatestValue(
    "debtbot_github_rate_limit_remaining",
    "The x-ratelimit-remaining of the latest GitHub API response.",
    REGISTRY,
)
# outcome: posted, updated, help, refused, refused-again, too-soon, not-a-command, bot, ...
# (see report.answer).
COMMANDS = Counter(
    "debtbot_commands_total",
    "Conversation comments handled as possible commands, by what became of them.",
    ("outcome",),
    registry=REGISTRY,
)
# outcome: posted, found, already-posted, being-posted, config-error, github-error, error, ...
SUMMARIES = Counter(
    "debtbot_summaries_total",
    "Attempts to post a due weekly summary, by outcome.",
    ("outcome",),
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "debtbot_job_seconds",
    "Time the worker spent on one delivery, by event.",
    ("event",),
    registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    """The metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
