"""Costly repository facts (clone fingerprints, module facts) are gathered only for the rules
that read them, and facts gathered without them never stand in for facts with them."""

from __future__ import annotations

from rules.engine import analyse_source, config_from_pyproject_text, default_config
from rules.engine.factcache import key_of

CODE = b"""\
import os
from pkg.model import train


def run(path):
    for name in os.listdir(path):
        data = open(os.path.join(path, name)).read()
        rows = [line.split(",") for line in data.splitlines()]
        total = sum(float(row[1]) for row in rows if len(row) > 1)
        print(name, total)
        train(rows)
    return total
"""


def facts(config):
    return analyse_source("pipeline.py", CODE, config, (), (), collect_facts=True).facts


def test_rules_that_are_off_cost_nothing_in_the_facts():
    found = facts(default_config())  # DEBT804 and DEBT506 are off by default
    assert found.fingerprints == ()
    assert found.module.imports == ()
    without = facts(config_from_pyproject_text('[tool.debtbot]\nignore = ["DEBT804"]\n'))
    assert without.fingerprints == () and without.module.imports == ()


def test_selecting_a_rule_gathers_the_facts_it_reads():
    clones = facts(config_from_pyproject_text('[tool.debtbot]\nselect = ["DEBT804"]\n'))
    assert clones.fingerprints and clones.module.imports == ()
    modules = facts(config_from_pyproject_text('[tool.debtbot]\nselect = ["DEBT506"]\n'))
    assert modules.fingerprints == ()
    assert [i.module for i in modules.module.imports] == ["os", "pkg.model"]


def test_the_cache_keeps_facts_of_different_kinds_apart():
    assert key_of("a.py", CODE) != key_of("a.py", CODE, kinds=("modules",))
    assert key_of("a.py", CODE, kinds=("modules", "fingerprints")) == key_of(
        "a.py", CODE, kinds=("fingerprints", "modules")
    )
