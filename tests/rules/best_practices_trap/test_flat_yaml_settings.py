"""DEBT403 flat_yaml_settings: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from rules.engine.config import parse_config
from tests.conftest import rule_findings


def findings(code: str, source: str, path: str = "example.py", config=None, files=()):
    return rule_findings(code, source, path, config, files)


def test_max_keys_option_changes_the_threshold() -> None:
    source = "a: 1\nb: 2\nc: 3\n"
    assert len(findings("DEBT403", source, path="settings.yaml")) == 1
    config = parse_config({"rules": {"DEBT403": {"max-keys": 2}}})
    assert findings("DEBT403", source, path="settings.yaml", config=config) == []


def test_flat_yaml_message_counts_the_settings() -> None:
    (finding,) = findings("DEBT403", "a: 1\nb: 2\n", path="settings.yaml")
    assert finding.line == 1
    assert "2 flat settings" in finding.message


def test_flat_yaml_is_left_alone_for_tools_and_generated_runs() -> None:
    flat = "a: 1\nb: 2\n"
    for path in (
        ".github/release-drafter.yml",
        "docker-compose.yml",
        "lightning_logs/version_0/hparams.yaml",
        "conf/base/parameters.yml",
        "tests/fixtures/settings.yaml",
    ):
        assert findings("DEBT403", flat, path=path) == [], path


def test_multi_document_yaml_is_not_flat_settings() -> None:
    assert findings("DEBT403", "a: 1\n---\nb: 2\n", path="settings.yaml") == []


def test_a_single_key_yaml_file_is_not_reported() -> None:
    assert findings("DEBT403", "model_path: models/model.pkl\n", path="settings.yaml") == []
