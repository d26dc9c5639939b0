"""DEBT803 deep_nesting: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import textwrap

from rules.engine.config import parse_config
from tests.conftest import rule_findings

findings = rule_findings


NESTED = """
def run(batches):
    for batch in batches:
        with timer():
            try:
                if batch:
                    while batch.pending:
                        if batch.ready:
                            step(batch)
            finally:
                log()
"""


def test_803_reports_once_per_function_at_the_first_block_too_deep() -> None:
    found = findings("DEBT803", NESTED)
    assert [(f.line, f.code) for f in found] == [(6, "DEBT803")]
    assert "5 levels" in found[0].message


def test_803_option_changes_the_limit() -> None:
    config = parse_config({"rules": {"DEBT803": {"max-depth": 6}}})
    assert findings("DEBT803", NESTED, config=config) == []
    config = parse_config({"rules": {"DEBT803": {"max-depth": 2}}})
    assert [f.line for f in findings("DEBT803", NESTED, config=config)] == [4]


def test_803_module_level_code_and_tests_are_ignored() -> None:
    body = textwrap.indent(textwrap.dedent(NESTED).split("\n", 2)[2], "")
    module_level = "\n".join(line[4:] for line in body.splitlines())
    assert findings("DEBT803", module_level) == []
    assert findings("DEBT803", NESTED, path="tests/test_run.py") == []
