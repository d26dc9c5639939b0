"""DEBT402 yaml_implicit_typing: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.catalogue import rules_by_code
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config
from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_one_finding_per_line_fixing_every_value_on_it() -> None:
    source = """
    python-version: [3.10, 3.11, 3.20]
    """
    (finding,) = findings("DEBT402", source, path="ci.yml")
    assert finding.replacement == 'python-version: ["3.10", 3.11, "3.20"]'
    assert "`3.1`" in finding.message


def test_octal_values_get_no_replacement() -> None:
    (finding,) = findings("DEBT402", "mode: 0755\n", path="deploy.yaml")
    assert finding.replacement is None
    assert "`493`" in finding.message


def test_invalid_yaml_is_skipped_not_reported() -> None:
    rule = rules_by_code()["DEBT402"]
    result = analyse_source("bad.yaml", b"a: [1, 2\n", default_config(), [rule], {"bad.yaml"})
    assert result.findings == []
    assert result.skipped
