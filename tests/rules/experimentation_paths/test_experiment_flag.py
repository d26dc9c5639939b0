"""DEBT1001 experiment_flag: focused tests beyond the examples the rule carries."""

from __future__ import annotations

import pytest

from rules.experimentation_paths.experiment_flag import is_experiment_flag
from tests.conftest import rule_findings

findings = rule_findings


def test_experiment_flag_message_names_the_flag() -> None:
    [finding] = findings("DEBT1001", "if not cfg.model.use_v2:\n    x = 1\n")
    assert "`cfg.model.use_v2`" in finding.message
    assert finding.line == 1


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
