"""DEBT903 sprawling_cli: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.engine.config import parse_config
from tests.conftest import rule_findings

findings = rule_findings


def _parser(count: int) -> str:
    return "\n".join(f'parser.add_argument("--o{n}", type=int)' for n in range(count)) + "\n"


def test_sprawling_cli_option_changes_the_limit() -> None:
    config = parse_config({"rules": {"DEBT903": {"max-arguments": 10}}})
    assert findings("DEBT903", _parser(10), config=config) == []
    [finding] = findings("DEBT903", _parser(11), config=config)
    assert finding.line == 1
    assert "11 command-line options" in finding.message


def test_sprawling_cli_counts_typer_and_click_together() -> None:
    options = "\n".join(f"    o{n}: int = typer.Option({n})," for n in range(20))
    source = (
        "import click\nimport typer\n\n"
        + "".join(f'@click.option("--c{n}")\n' for n in range(6))
        + f"def main(\n{options}\n):\n    pass\n"
    )
    [finding] = findings("DEBT903", source)
    assert "26 command-line options" in finding.message
    assert "`click.option`" in finding.message
