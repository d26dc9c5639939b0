"""DEBT901 deep_config_access: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from rules.engine.config import ConfigError, parse_config
from tests.conftest import rule_findings

findings = rule_findings


def test_deep_config_min_depth_option_lowers_the_bar() -> None:
    source = """
    def build_optimizer(model, cfg):
        return AdamW(model.parameters(), lr=cfg["optim"]["lr"])
    """
    assert findings("DEBT901", source) == []
    config = parse_config({"rules": {"DEBT901": {"min-depth": 2}}})
    [finding] = findings("DEBT901", source, config=config)
    assert "`cfg['optim']`" in finding.message


def test_deep_config_min_depth_rejects_a_string() -> None:
    with pytest.raises(ConfigError, match="min-depth"):
        parse_config({"rules": {"DEBT901": {"min-depth": "3"}}})


def test_deep_config_reports_each_section_once_per_function() -> None:
    source = """
    def build_encoder(cfg):
        layers = cfg.model.encoder.layers
        heads = cfg.model.encoder.heads
        dropout = cfg.model.encoder.dropout.attention
        return Encoder(layers, heads, dropout)

    def build_decoder(cfg):
        return Decoder(cfg.model.decoder.layers, cfg.data.loader.batch_size)
    """
    found = findings("DEBT901", source)
    assert [f.line for f in found] == [2, 8, 8]
    assert "reaching 3 levels into `cfg`" in found[0].message


def test_deep_config_mixed_keys_and_get() -> None:
    source = """
    def lr(self):
        return self.config["optim"].schedule.get("base_lr")
    """
    [finding] = findings("DEBT901", source)
    assert "`self.config['optim'].schedule`" in finding.message


def test_deep_config_skips_tests() -> None:
    source = "value = cfg.model.encoder.layers\n"
    assert findings("DEBT901", source, path="tests/test_model.py") == []
    assert len(findings("DEBT901", source)) == 1
