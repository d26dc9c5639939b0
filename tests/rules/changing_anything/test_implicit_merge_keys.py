"""DEBT504 implicit_merge_keys: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_keys_given_by_position_are_explicit() -> None:
    source = """
    import pandas as pd

    out = pd.merge(a, b, "left", "user_id")
    out2 = a.merge(b, "left", "user_id")
    """
    assert findings("DEBT504", source) == []


def test_cross_join_given_by_position_needs_no_keys() -> None:
    source = """
    import pandas as pd

    grid = pd.merge(a, b, "cross")
    """
    assert findings("DEBT504", source) == []


def test_merge_on_a_chained_receiver_is_reported() -> None:
    source = """
    import pandas as pd

    out = pd.read_csv("a.csv").merge(pd.read_csv("b.csv"), how="left")
    """
    found = findings("DEBT504", source)
    assert [f.line for f in found] == [3]
    assert "`merge()`" in found[0].message
