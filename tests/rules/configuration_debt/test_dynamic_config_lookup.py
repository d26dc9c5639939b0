"""DEBT902 dynamic_config_lookup: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


def test_dynamic_lookup_names_from_literals_are_known() -> None:
    source = """
    def tune(options, new_api):
        member = "threading" if new_api else "experimental_threading"
        getattr(options, member).private_threadpool_size = 4
    """
    assert findings("DEBT902", source) == []


def test_dynamic_lookup_loop_rebinding_beats_an_earlier_literal() -> None:
    source = """
    def apply(cfg, overrides):
        key = "lr"
        for key, value in overrides.items():
            setattr(cfg, key, value)
    """
    [finding] = findings("DEBT902", source)
    assert "`setattr(cfg, key, ...)`" in finding.message


def test_dynamic_lookup_guarded_overrides() -> None:
    guarded = """
    def apply(cfg, overrides):
        for key, value in overrides.items():
            if hasattr(cfg, key) and value is not None:
                setattr(cfg, key, value)
    """
    assert findings("DEBT902", guarded) == []
    other_object = guarded.replace("hasattr(cfg, key)", "hasattr(defaults, key)")
    assert len(findings("DEBT902", other_object)) == 1
    in_else = """
    for key, value in pairs:
        if key in globals():
            print(key)
        else:
            globals()[key] = value
    """
    assert len(findings("DEBT902", in_else)) == 1


def test_dynamic_lookup_globals_update_registry_versus_settings() -> None:
    assert findings("DEBT902", "globals().update(registry._entrypoints)\n") == []
    assert len(findings("DEBT902", "globals().update(yaml.safe_load(open(path)))\n")) == 1
    assert len(findings("DEBT902", "globals().update(vars(args))\n")) == 1
