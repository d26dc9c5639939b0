"""The calls that train a model and the calls that make it predict."""

from __future__ import annotations

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
