"""DEBT401 unsafe_yaml_load: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_unsafe_yaml_replacement_drops_a_positional_loader() -> None:
    source = """
    import yaml
    config = yaml.load(handle, yaml.Loader)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement == "config = yaml.safe_load(handle)"
    assert "`yaml.safe_load`" in finding.message


def test_unsafe_yaml_load_all_becomes_safe_load_all_keeping_the_alias() -> None:
    source = """
    import yaml as y
    docs = list(y.load_all(stream))
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement == "docs = list(y.safe_load_all(stream))"
    assert "`y.safe_load_all`" in finding.message


def test_unsafe_yaml_on_a_compound_statement_line_gets_no_replacement() -> None:
    source = """
    import yaml
    with open(path) as f: cfg = yaml.load(f)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement is None


def test_yaml_load_without_an_import_is_not_assumed_to_be_pyyaml() -> None:
    assert findings("DEBT401", "cfg = yaml.load(f)\n") == []


def test_explicit_unsafe_load_is_reported_without_a_rewrite() -> None:
    source = """
    import yaml
    obj = yaml.unsafe_load(f)
    """
    (finding,) = findings("DEBT401", source)
    assert finding.replacement is None
    assert "`yaml.unsafe_load`" in finding.message
