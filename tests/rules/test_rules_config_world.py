"""Focused tests of the configuration-debt and external-world rules (DEBT901-903, 1101-1102)."""

from __future__ import annotations

import pytest

from rules.engine.config import ConfigError, parse_config
from tests.conftest import rule_findings

findings = rule_findings


# DEBT901 deep-config-access


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


# DEBT902 dynamic-config-lookup


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


# DEBT903 sprawling-cli


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


# DEBT1101 fixed-decision-threshold


@pytest.mark.parametrize(
    "source",
    [
        "labels = (probs > 0.50).astype(int)\n",  # the neutral cut
        "keep = prob > 0.01\n",  # a noise floor
        "if model.score(X, y) > 0.8:\n    deploy()\n",  # a metric
        "if preds.shape[0] > 0.3:\n    pass\n",  # not a score
        "if self.score_thresh > 0.05:\n    pass\n",  # a setting
        "mask = torch.rand(n) < 0.15\n",  # randomness
    ],
)
def test_fixed_threshold_quiet(source: str) -> None:
    assert findings("DEBT1101", source) == []


def test_fixed_threshold_one_finding_per_statement() -> None:
    source = 'risk = "high" if prob > 0.7 else "medium" if prob > 0.3 else "low"\n'
    [finding] = findings("DEBT1101", source)
    assert "`0.7` on `prob`" in finding.message


def test_fixed_threshold_literal_on_the_left() -> None:
    [finding] = findings("DEBT1101", "if 0.8 <= torch.softmax(out, -1).max():\n    accept()\n")
    assert "`0.8`" in finding.message


# DEBT1102 hard-coded-date


def test_hard_coded_date_reported_once_per_function() -> None:
    source = """
    import pandas as pd

    train = orders[orders.day <= pd.Timestamp("2021-06-30")]
    test = orders[orders.day > pd.Timestamp("2021-06-30")]

    def valid(orders):
        return orders[orders.day > pd.Timestamp("2021-06-30")]
    """
    found = findings("DEBT1102", source)
    assert [f.line for f in found] == [3, 7]
    assert "`2021-06-30`" in found[0].message


def test_hard_coded_date_reports_the_literal() -> None:
    [finding] = findings("DEBT1102", 'recent = df[df["ts"].dt.date >= "2022-03-01"]\n')
    assert finding.column == 33


@pytest.mark.parametrize(
    "source",
    [
        'if "2020-01-01" in holidays:\n    pass\n',  # membership, not a cut-off
        'if version >= "2.0.1":\n    pass\n',  # not a date
        'df = pd.read_sql(q, con, params={"start": "2020-01-01"})\n',  # a named parameter
        'sentinel = df[df.ts > "1970-01-01"]\n',  # the epoch
    ],
)
def test_hard_coded_date_quiet(source: str) -> None:
    assert findings("DEBT1102", source) == []
