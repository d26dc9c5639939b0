"""Every rule's VALID and INVALID examples, run as tests; every rule's metadata, checked."""

from __future__ import annotations

import textwrap

import pytest

from rules.catalogue import all_rules, metadata_problems, title_of
from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.engine.scanner import scan
from rules.rule import Example, Rule

RULES = all_rules()
EXAMPLES = [
    pytest.param(rule, kind, example, id=f"{rule.code}-{kind}-{index}")
    for rule in RULES
    for index, (kind, example) in enumerate(rule.examples())
]


def run_example(rule: Rule, example: Example):
    source = textwrap.dedent(example.code).lstrip("\n")
    files = {example.path, *example.files, *(path for path, _ in example.others)}
    if rule.check_repository is None and rule.check_change is None:
        return analyse_source(example.path, source.encode(), default_config(), [rule], files)
    sources = {example.path: source, **{p: textwrap.dedent(c) for p, c in example.others}}
    changed = {example.path: source, **{p: sources[p] for p in example.changed}}
    return scan(
        [(path, text.encode) for path, text in changed.items()],
        parse_config({"select": [rule.code]}),
        frozenset(files),
        context=[(path, text.encode) for path, text in sources.items()],
        added={
            p: frozenset(
                example.added
                if p == example.path and example.added is not None
                else range(1, text.count("\n") + 2)
            )
            for p, text in changed.items()
        },
        read_base=lambda p: (
            textwrap.dedent(example.base).lstrip("\n")
            if p == example.path and example.base is not None
            else None
        ),
    )


@pytest.mark.parametrize(("rule", "kind", "example"), EXAMPLES)
def test_example(rule: Rule, kind: str, example: Example) -> None:
    result = run_example(rule, example)
    assert not result.skipped, result.skipped
    if kind == "valid":
        assert result.findings == [], f"{rule.code} fired on a VALID example"
        return
    assert result.findings, f"{rule.code} stayed quiet on an INVALID example"
    first = result.findings[0]
    assert first.code == rule.code
    assert first.principle == rule.principle
    assert "{" not in first.message.replace("{{", ""), first.message
    if example.line is not None:
        assert first.line == example.line
    if example.replacement is not None:
        assert first.replacement == example.replacement


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_metadata(rule: Rule) -> None:
    assert metadata_problems(rule) == []


def test_codes_and_names_are_unique() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


def test_rule_names_read_as_people_write_them():
    assert title_of("unsafe-yaml-load") == "Unsafe YAML load"
    assert title_of("nan-equality") == "NaN equality"
    assert title_of("fixed-decision-threshold") == "Fixed decision threshold"
    for rule in all_rules():
        assert title_of(rule.name)[0].isupper(), rule.name
