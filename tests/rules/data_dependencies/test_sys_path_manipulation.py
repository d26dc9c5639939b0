"""DEBT702 sys_path_manipulation: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from tests.conftest import rule_findings

findings = rule_findings


@pytest.mark.parametrize(
    "statement",
    ["sys.path[:0] = ['../lib']", "sys.path = ['src'] + sys.path", "sys.path.extend(extra)"],
)
def test_702_other_writes_to_sys_path(statement: str) -> None:
    assert len(findings("DEBT702", f"import sys\n{statement}\n")) == 1


def test_702_sphinx_conf_under_source_folder_is_exempt() -> None:
    source = "import sys\nsys.path.insert(0, '../..')\n"
    assert findings("DEBT702", source, path="docs/source/conf.py") == []
    assert len(findings("DEBT702", source, path="scripts/conf.py")) == 1
