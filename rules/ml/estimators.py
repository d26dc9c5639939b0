"""Models: the calls that train them and make them predict, and the names that hold them."""

from __future__ import annotations

import re

import libcst as cst

from rules.names import string_value

# Methods that return a model's predictions or scores for the rows they are given.
PREDICT_METHODS = frozenset(
    {
        "predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
        "predict_on_batch",
    }
)  # fmt: skip
# Methods that train the model they are called on with the rows and labels they are given.
FIT_METHODS = frozenset({"fit", "partial_fit"})
# Functions that train and return a new model: ``lightgbm.train(params, train_set)``.
FIT_FUNCTIONS = frozenset({"lightgbm.train", "xgboost.train", "catboost.train"})

# The last word of a name that holds a model (or a checkpoint of one): ``model``, ``best_clf``,
# ``xgbRegressor``, ``last_ckpt``.
_MODEL_WORDS = frozenset(
    {
        "model", "models", "clf", "classifier", "regressor", "estimator", "net", "network",
        "pipeline", "pipe", "booster", "bst", "gbm", "lgbm", "xgb", "learner", "predictor",
        "rf", "svm", "svc", "knn", "ensemble", "detector", "ranker", "forecaster", "lr", "reg",
        "ckpt", "checkpoint",
    }
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# Calls on a model that still give the model, or its weights.
_SAME_MODEL = frozenset({"state_dict", "get_weights", "half", "cpu", "float"})


def model_like_name(name: str) -> bool:
    """Whether a variable's name says it holds a model, or several (``clfs``, ``base_models``)."""
    tokens = [t for t in _CAMEL.sub("_", name).lower().split("_") if t]
    if not tokens:
        return False
    last = tokens[-1]
    # Plurals of the two-letter words are something else: `lrs` are learning rates.
    plural = last.endswith("s") and len(last) >= 4 and last[:-1] in _MODEL_WORDS
    return last in _MODEL_WORDS or plural


def names_a_model(node: cst.BaseExpression) -> bool:
    """Whether an expression is, by its names, a model or its weights: ``clf``,
    ``self.model``, ``model.module.state_dict()``, a checkpoint such as
    ``{"model": net.state_dict(), "epoch": 3}`` or ``dict(checkpoint=net.state_dict())``."""
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _SAME_MODEL:
            return names_a_model(node.func.value)
        if isinstance(node.func, cst.Name) and node.func.value == "dict":  # a checkpoint
            return any(
                model_like_name(arg.keyword.value if arg.keyword else "")
                or names_a_model(arg.value)
                for arg in node.args
            )
        return False
    if isinstance(node, cst.Name):
        return model_like_name(node.value)
    if isinstance(node, cst.Attribute):
        return model_like_name(node.attr.value) or (
            node.attr.value == "module" and names_a_model(node.value)
        )
    if isinstance(node, cst.Tuple | cst.List):
        return any(names_a_model(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return any(
            isinstance(e, cst.DictElement)
            and (model_like_name(string_value(e.key) or "") or names_a_model(e.value))
            for e in node.elements
        )
    return False
