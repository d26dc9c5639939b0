"""DEBT1002 variant_name: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_variant_name_reports_each_variant_once() -> None:
    source = """
    def train(df): ...
    def train_v2(df): ...
    def train_old(df): ...
    """
    found = findings("DEBT1002", source)
    assert [(f.line, "train_v2" in f.message or "train_old" in f.message) for f in found] == [
        (2, True),
        (3, True),
    ]


def test_variant_name_skips_tests() -> None:
    assert findings("DEBT1002", "def f(): ...\ndef f_old(): ...\n", path="tests/test_f.py") == []
