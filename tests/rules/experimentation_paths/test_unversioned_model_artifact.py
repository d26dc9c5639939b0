"""DEBT1004 unversioned_model_artifact: focused tests beyond the examples the rule carries."""

from __future__ import annotations

from tests.conftest import rule_findings

findings = rule_findings


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
