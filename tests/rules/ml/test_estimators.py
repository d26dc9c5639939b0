"""rules/ml/estimators.py: which names hold a model, shared by DEBT1004 and the file facts."""

from __future__ import annotations

import libcst as cst
import pytest

from rules.ml.estimators import model_like_name, names_a_model


@pytest.mark.parametrize(
    "name", ["model", "best_clf", "xgbRegressor", "clfs", "base_models", "last_ckpt"]
)
def test_names_of_models(name: str) -> None:
    assert model_like_name(name)


@pytest.mark.parametrize("name", ["scores", "lrs", "rfs", "model_name", "vocab", ""])
def test_names_of_other_things(name: str) -> None:
    assert not model_like_name(name)


@pytest.mark.parametrize(
    "code",
    [
        "net.module.state_dict()",
        "self.model",
        "{'model': net.state_dict(), 'epoch': 3}",
        "dict(checkpoint=trainer.model.state_dict(), epoch=epoch)",
        "(vectorizer, clf)",
    ],
)
def test_expressions_holding_a_model(code: str) -> None:
    assert names_a_model(cst.parse_expression(code))


@pytest.mark.parametrize("code", ["preds", "model.predict(X)", "dict(scores=preds)", "{'y': y}"])
def test_expressions_holding_something_else(code: str) -> None:
    assert not names_a_model(cst.parse_expression(code))
