"""Focused tests for the experimentation-paths rules (DEBT1001-DEBT1005), beyond their examples."""

from __future__ import annotations

import pytest

from rules.engine.analyse import analyse_source
from rules.engine.config import default_config, parse_config
from rules.experimentation_paths.experiment_flag import is_experiment_flag
from rules.rule import rules_by_code
from tests.conftest import rule_findings

findings = rule_findings


@pytest.mark.parametrize(
    "name",
    ["USE_NEW_MODEL", "use_new_loss", "EXPERIMENTAL", "cfg_use_v2", "ENABLE_HACK",
     "try_new_tokenizer", "useNewModel", "use_experimental_head", "ablation", "TMP_FIX"],
)  # fmt: skip
def test_experiment_flag_names(name: str) -> None:
    assert is_experiment_flag(name)


@pytest.mark.parametrize(
    "name",
    ["use_amp", "resume", "training", "is_new_user", "new_rows", "temp", "tmp", "use_tmp_dir",
     "use_new_session", "v2", "experimental_data", "enable_experiment_tracking", "use_exp_decay"],
)  # fmt: skip
def test_not_experiment_flag_names(name: str) -> None:
    assert not is_experiment_flag(name)


def test_experiment_flag_message_names_the_flag() -> None:
    [finding] = findings("DEBT1001", "if not cfg.model.use_v2:\n    x = 1\n")
    assert "`cfg.model.use_v2`" in finding.message
    assert finding.line == 1


def test_variant_name_reports_each_variant_once() -> None:
    source = """
    def train(df): ...
    def train_v2(df): ...
    def train_old(df): ...
    """
    found = findings("DEBT1002", source)
    assert [(f.line, "train_v2" in f.message or "train_old" in f.message) for f in found] == [
        (2, True),
        (3, True),
    ]


def test_variant_name_skips_tests() -> None:
    assert findings("DEBT1002", "def f(): ...\ndef f_old(): ...\n", path="tests/test_f.py") == []


def test_commented_out_code_reports_the_whole_block() -> None:
    source = """
    x = 1
    # Previous approach:
    # y = x + 1
    # z = y * 2
    # print(z)
    w = 3
    """
    [finding] = findings("DEBT1003", source)
    assert (finding.line, finding.end_line, finding.column) == (3, 5, 1)
    assert "3 commented-out lines" in finding.message


def test_commented_out_code_min_lines_option() -> None:
    source = "x = 1\n# y = x + 1\n# z = y * 2\n"
    assert len(findings("DEBT1003", source)) == 1
    config = parse_config({"rules": {"DEBT1003": {"min-lines": 3}}})
    assert findings("DEBT1003", source, config=config) == []
    config = parse_config({"rules": {"commented-out-code": {"min-lines": 1}}})
    assert len(findings("DEBT1003", "x = 1\n# y = x + 1\n", config=config)) == 1


def test_commented_out_code_one_finding_per_region() -> None:
    source = """
    x = 1

    # class Baseline:
    #     \"\"\"
    #     The old model, for comparison.
    #     \"\"\"
    #     def fit(self, X, y):
    #         self.mean = y.mean()

    #     def predict(self, X):
    #         \"\"\"Predict the mean.\"\"\"
    #         return np.full(len(X), self.mean)
    w = 3
    """
    [finding] = findings("DEBT1003", source)
    assert (finding.line, finding.end_line) == (3, 12)
    assert "9 commented-out lines" in finding.message


def test_commented_out_code_scattered_single_lines_are_not_a_block() -> None:
    source = """
    # Directory that holds configuration.
    # CONF_SOURCE = "conf"

    # from kedro.config import OmegaConfigLoader

    # CONFIG_LOADER_CLASS = OmegaConfigLoader
    """
    assert findings("DEBT1003", source) == []


def test_commented_out_code_prose_still_splits_regions() -> None:
    source = """
    # y = x + 1
    # z = y * 2

    # Older experiment with a bigger model:
    # model = build(width=512)
    # model.fit(X, y)
    """
    assert [f.line for f in findings("DEBT1003", source)] == [1, 5]


def test_commented_out_code_survives_broken_tokens() -> None:
    # An unterminated triple-quoted string cannot be tokenized; the rule must not crash.
    rule = rules_by_code()["DEBT1003"]
    result = analyse_source("a.py", b"# x = 1\n# y = 2\ns = '''\n", default_config(), [rule])
    assert not [s for s in result.skipped if "DEBT1003" in s.reason]


def test_unversioned_artifact_module_constant_and_message() -> None:
    source = """
    import joblib
    MODEL_PATH = "models/model.joblib"
    def save(model):
        joblib.dump(model, MODEL_PATH)
    """
    [finding] = findings("DEBT1004", source)
    assert finding.line == 4
    assert "`models/model.joblib`" in finding.message
    assert "`model`" in finding.message


def test_unversioned_artifact_ignores_dynamic_paths() -> None:
    source = """
    import torch
    torch.save(model.state_dict(), Path(out_dir) / "best.pt")
    torch.save(model.state_dict(), f"checkpoints/{run_id}/best.pt")
    torch.save(model.state_dict(), "checkpoints/" + run_id + ".pt")
    """
    assert findings("DEBT1004", source) == []


def test_unseeded_randomness_positional_kfold_arguments() -> None:
    source = """
    from sklearn.model_selection import KFold
    a = KFold(5, True)
    b = KFold(5, True, 42)
    c = KFold(5, False)
    """
    found = findings("DEBT1005", source)
    assert [f.line for f in found] == [2]


def test_unseeded_randomness_explicit_none_is_a_decision() -> None:
    source = """
    from sklearn.ensemble import RandomForestClassifier
    clf = RandomForestClassifier(random_state=None)
    """
    assert findings("DEBT1005", source) == []
