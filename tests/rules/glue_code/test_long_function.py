"""DEBT802 long_function: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.engine.config import parse_config
from tests.conftest import rule_findings

findings = rule_findings


def long_function(statements: int) -> str:
    return "def main(df):\n" + "    df = df.dropna()\n" * statements


def test_802_option_changes_the_limit() -> None:
    assert findings("DEBT802", long_function(20)) == []
    config = parse_config({"rules": {"DEBT802": {"max-statements": 10}}})
    found = findings("DEBT802", long_function(20), config=config)
    assert len(found) == 1
    assert "20 statements" in found[0].message and "10" in found[0].message


def test_802_nested_function_counts_for_both() -> None:
    inner = "    def helper(x):\n" + "        x = x + 1\n" * 55 + "        return x\n"
    found = findings("DEBT802", "def outer():\n" + inner + "    return helper\n")
    assert sorted(f.message.split("`")[1] for f in found) == ["helper", "outer"]


def test_802_one_line_suites_count_every_statement() -> None:
    body = "    if df is None: df = load(); df = clean(df)\n" * 17
    found = findings("DEBT802", "def main(df):\n" + body)
    assert len(found) == 1 and "51 statements" in found[0].message
