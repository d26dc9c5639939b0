"""Metrics that mean something only once observed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from bot.metrics import LatestValue


def test_a_rate_limit_is_not_reported_before_github_has_answered_once():
    registry = CollectorRegistry(auto_describe=True)
    gauge = LatestValue("left", "Requests left.", registry)
    assert b"left " not in generate_latest(registry)  # not 0: nothing is known yet

    gauge.set(4999)
    assert b"left 4999.0" in generate_latest(registry)
    gauge.set(0)
    assert b"left 0.0" in generate_latest(registry)
