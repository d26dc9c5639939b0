"""
What it does
------------
Flags a comparison of a model score with a float literal strictly between 0 and 1, such as
``proba > 0.73``, ``scores >= 0.9``, ``model.predict_proba(X)[:, 1] > 0.35`` or
``torch.sigmoid(logits) > 0.7``.

The compared side must look like a model output: it calls ``predict_proba``,
``decision_function``, ``predict``, ``sigmoid``, ``softmax`` or ``expit``, or it is a name,
attribute or string key made of words such as ``prob``, ``proba``, ``probability``, ``score``,
``confidence``, ``conf``, ``likelihood`` or ``pred``. Names that also say they are a threshold,
a metric or a hyperparameter (``conf_thres``, ``val_score``, ``f1``, ``keep_prob``,
``flip_prob``) are left alone, as are metric calls (``f1_score(...)``, ``model.score(X, y)``) and
differences (``abs(pred - target) < 0.1`` is a tolerance, not a decision).

``0.5`` is not flagged: for a calibrated binary classifier it is the neutral cut that
``predict`` itself applies, not a value tuned on one period's data. Nor are noise floors of
0.01 and below (``prob > 0.001``), or cut-offs in plotting, display and logging code, which
decide nothing: files and functions named ``plot``, ``draw``, ``visualize``, ``show``...,
functions named ``log_*`` (``log_training_progress``, but not ``log_prob`` or ``log_odds``),
and comparisons passed to a logging call (``wandb.log``, ``writer.add_scalar``,
``logger.info``, ``mlflow.log_metric``, ``print``); nor cut-offs inside an f-string or a function
named as a metric (``def precision_metric(y_true, y_pred)``), which measure or describe rather
than decide. Thresholds given as named parameters (``def detect(conf_thres=0.25)``, ``nms(..., score_thresh=0.05)``) are the fix, not
the problem, and are not flagged either. Test files are skipped.

Why is this bad?
----------------
A cut-off such as 0.73 was chosen on the data available when it was written: a given class
balance, a given calibration of the model, a given cost of false alarms. When the population
drifts or the model is retrained, the same number means a different precision and recall, and
nothing in the code says where it came from or when to revisit it. Buried in a condition, it is
also invisible to whoever owns the monitoring and the business rule.

Example
-------
.. code-block:: python

    proba = model.predict_proba(features)[:, 1]
    flagged = transactions[proba > 0.73]

Use instead
-----------
Keep the threshold next to the model it was tuned for, with how it was chosen, and monitor the
rate it produces:

.. code-block:: python

    threshold = model_card.decision_threshold  # tuned for 95% precision on 2024-Q1 validation
    proba = model.predict_proba(features)[:, 1]
    flagged = transactions[proba > threshold]
    metrics.gauge("fraud.flag_rate", float((proba > threshold).mean()))

References
----------
- scikit-learn user guide, "Tuning the decision threshold for class prediction"
  (``TunedThresholdClassifierCV``, ``FixedThresholdClassifier``)
- SonarQube and pylint have no equivalent; ruff ``PLR2004`` (magic-value-comparison) is the
  general form
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems", fixed thresholds in
  dynamic systems
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import number_value, string_value

RULE = Rule(
    code="DEBT1101",
    name="fixed-decision-threshold",
    principle="external-world",
    severity="warning",
    message="Read the decision threshold `{value}` on `{score}` from versioned configuration tuned for this model, so it can be revisited when the data drifts.",
    valid=(
        # Near miss: a hyperparameter compared with a literal, not a model score.
        """
if dropout > 0.3:
    layers.append(nn.Dropout(dropout))
""",
        # Near miss: a loss, not a score.
        """
if loss < 0.01:
    break
""",
        # Near miss: the threshold is named and passed in.
        """
threshold = config.threshold
flagged = transactions[proba > threshold]
""",
        # Near miss: a threshold setting and a metric, not a score.
        """
if opt.conf_thres > 0.001:
    LOGGER.warning("confidence threshold above 0.001 gives invalid mAP")
if f1_score(y_true, y_pred) < 0.8:
    raise ModelQualityError("f1 below release bar")
""",
        # Near miss: 0.5 is the neutral cut of a calibrated binary classifier.
        """
labels = (torch.sigmoid(logits) > 0.5).long()
""",
        # Near miss: an augmentation probability, and a tolerance on a difference.
        """
if hflip_prob > 0.3:
    transforms.append(RandomHorizontalFlip(hflip_prob))
assert abs(pred - target) < 0.01
""",
        # Near miss: which boxes to draw on a debug image decides nothing.
        Example(
            """
def plot_images(images, targets):
    for j, box in enumerate(boxes.T.tolist()):
        if labels or conf[j] > 0.25:
            annotator.box_label(box, label)
""",
            path="utils/plots.py",
        ),
        # Near miss: which detections go into an experiment-tracker table is logging, not a
        # decision; nor is a share reported to TensorBoard.
        """
class Tracker:
    def log_validation_samples(self, detections, names):
        rows = []
        for *box, score, cls in detections.tolist():
            if score >= 0.3:
                rows.append({"box": box, "label": names[int(cls)], "score": score})
        self.table.add_data(rows)

def report(writer, probs, step):
    writer.add_scalar("val/high_confidence_share", (probs > 0.9).float().mean(), step)
""",
        # Near miss: test files may pin thresholds.
        Example(
            "def test_model():\n    assert model.predict_proba(X)[:, 1].mean() > 0.7\n",
            path="tests/test_model.py",
        ),
        # Near misses: a metric's definition, and text for people.
        """
import keras.backend as K

def precision_metric(y_true, y_pred):
    predicted = K.cast(y_pred > 0.75, "float32")
    return K.sum(predicted * y_true) / (K.sum(predicted) + K.epsilon())
""",
        """
import torch

def summary(probs):
    return f"{(probs > 0.8).float().mean():.1%} confident"
""",
    ),
    invalid=(
        Example(
            """
proba = model.predict_proba(features)[:, 1]
flagged = transactions[proba > 0.73]
""",
            line=2,
        ),
        Example(
            "approved = model.predict_proba(X)[:, 1] > 0.35\n",
            line=1,
        ),
        """
detections = detector(images)[0]
keep = detections["scores"] >= 0.9
boxes = detections["boxes"][keep]
""",
        """
def route(ticket):
    confidence = classifier(ticket.text).max()
    if confidence < 0.62:
        return "human_review"
    return "auto"
""",
        """
import numpy as np
import xgboost

fraud_proba = booster.inplace_predict(features)
is_fraud = np.where(fraud_proba > 0.6, 1, 0)
""",
    ),
)

_SCORE_WORDS = frozenset(
    {
        "prob", "probs", "proba", "probas", "probability", "probabilities", "score", "scores",
        "confidence", "confidences", "conf", "confs", "likelihood", "likelihoods", "pred",
        "preds", "prediction", "predictions", "yhat",
    }
)  # fmt: skip
# Words that make a name a threshold, a metric, a hyperparameter or something else that is not
# a model's output for one example.
_OTHER_WORDS = frozenset(
    {
        "thr", "thres", "thresh", "threshold", "thresholds", "cutoff", "min", "iou", "loss",
        "losses", "lr", "dropout", "drop", "keep", "rate", "ratio", "alpha", "beta", "gamma",
        "eps", "epsilon", "momentum", "decay", "frac", "fraction", "acc", "accuracy", "f1",
        "auc", "roc", "ap", "map", "precision", "recall", "r2", "fitness", "metric", "metrics",
        "best", "val", "valid", "validation", "eval", "test", "cv", "mse", "rmse", "mae",
        "error", "err", "kappa", "corr", "bleu", "rouge", "silhouette", "jaccard", "dice",
        "flip", "hflip", "vflip", "aug", "augment", "mixup", "cutmix", "mosaic", "erase",
        "jitter", "noise", "smoothing", "temperature", "weight", "weights", "lambda", "shape",
        "size", "ndim", "numel", "len", "length", "count", "index", "idx", "dim", "std", "var",
    }
)  # fmt: skip
_SCORE_CALLS = frozenset(
    {"predict_proba", "decision_function", "predict", "sigmoid", "softmax", "expit"}
)
# Calls that keep the meaning of their input: descend into the object or first argument.
_PASS_THROUGH = frozenset(
    {
        "max", "amax", "min", "amin", "mean", "median", "squeeze", "item", "float", "numpy",
        "cpu", "detach", "flatten", "ravel", "tolist", "asarray", "array", "tensor", "values",
        "to_numpy", "astype", "clamp", "clip", "round", "reshape", "view",
    }
)  # fmt: skip
_DISPLAY = re.compile(r"plot|draw|visuali[sz]|render|display|show|annotat", re.IGNORECASE)
# ``log_training_progress`` logs; ``log_prob``, ``log_odds`` and the like compute.
_LOG_FUNCTION = re.compile(
    r"_*log_(?!(probs?|proba|odds|likelihoods?|loss|softmax|sigmoid|sum|det|density|pdf|cdf"
    r"|posterior|prior|ratio|partition|normal|scale|space)(_|$))"
)
_LOGGING_MODULES = frozenset(
    {"wandb", "mlflow", "logging", "tensorboard", "tensorboardX", "neptune", "comet_ml", "clearml"}
)
_LOGGING_METHODS = frozenset(
    {
        "add_scalar", "add_scalars", "add_histogram", "add_pr_curve", "add_text", "add_image",
        "add_images", "add_figure", "log_metric", "log_metrics", "log_scalar", "log_table",
        "log_image", "log_dict", "log_text", "log",
    }
)  # fmt: skip
_LOG_LEVELS = frozenset({"info", "debug", "warning", "warn", "error", "critical", "exception"})
_LOGGER_WORDS = frozenset(
    {"log", "logger", "logging", "wandb", "run", "writer", "tb", "experiment"}
)
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


@dataclass
class State:
    """Whether the file is left alone, and the statements already reported."""

    # Worked out from the path on first use; None until then.
    skip_file: bool | None = None
    # Ids of the statements holding a reported comparison.
    statements: set[int] = field(default_factory=set)


def _words(name: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(name)}


def _name_kind(name: str) -> bool | None:
    """True for a score-like name, False for a name that is something else, None when neutral."""
    words = _words(name)
    if words & _OTHER_WORDS:
        return False
    if words & _SCORE_WORDS:
        return True
    return None


def _last_name(func: cst.BaseExpression) -> str | None:
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _is_score(node: cst.BaseExpression, depth: int = 0) -> bool:
    """Whether the expression reads like a model's score for one or more examples."""
    if depth > 12:
        return False
    if isinstance(node, cst.Name):
        return _name_kind(node.value) is True
    if isinstance(node, cst.Attribute):
        kind = _name_kind(node.attr.value)
        return kind if kind is not None else _is_score(node.value, depth + 1)
    if isinstance(node, cst.Subscript):
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = string_value(node.slice[0].slice.value)
            if key is not None:
                return _name_kind(key) is True
        return _is_score(node.value, depth + 1)
    if isinstance(node, cst.Call):
        name = _last_name(node.func)
        if name is None:
            return False
        if name in _SCORE_CALLS:
            return True
        if name == "score" or name.endswith("_score"):
            return False  # a metric such as `model.score(X, y)` or `f1_score(...)`
        if name in _PASS_THROUGH:
            if isinstance(node.func, cst.Attribute) and _is_score(node.func.value, depth + 1):
                return True
            return bool(node.args) and _is_score(node.args[0].value, depth + 1)
        kind = _name_kind(name)
        if kind is not None:
            return kind
        return False
    return False


def _threshold(node: cst.BaseExpression) -> float | None:
    value = number_value(node)
    if value is None or not isinstance(node, cst.Float) or not 0.01 < value < 1 or value == 0.5:
        return None
    return value


def _skipped_file(ctx: Context[State]) -> bool:
    if ctx.state.skip_file is None:
        name = ctx.path.rsplit("/", 1)[-1]
        ctx.state.skip_file = ctx.is_test or _DISPLAY.search(name) is not None
    return ctx.state.skip_file


def _in_display_code(ctx: Context) -> bool:
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        return False
    name = function.name.value
    return _DISPLAY.search(name) is not None or _LOG_FUNCTION.match(name) is not None


def _logger_receiver(node: cst.BaseExpression) -> bool:
    name = _last_name(node)
    return name is not None and bool(_words(name) & _LOGGER_WORDS)


def _logging_call(call: cst.Call, ctx: Context) -> bool:
    qualified = ctx.call_name(call) or ""
    if qualified == "print" or qualified.split(".", 1)[0] in _LOGGING_MODULES:
        return True
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    method = func.attr.value
    return method in _LOGGING_METHODS or (method in _LOG_LEVELS and _logger_receiver(func.value))


def _passed_to_logging(ctx: Context) -> bool:
    """Whether the comparison being visited is an argument of a logging call."""
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, cst.BaseStatement | cst.BaseSmallStatement):
            return False
        if isinstance(ancestor, cst.Call) and _logging_call(ancestor, ctx):
            return True
    return False


def _short(node: cst.BaseExpression, ctx: Context) -> str:
    code = " ".join(ctx.code(node).split())
    return code if len(code) <= 60 else code[:57] + "..."


def _threshold_and_score(
    left: cst.BaseExpression, right: cst.BaseExpression
) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """(literal threshold, score expression) when one side is each, else None."""
    for literal, other in ((right, left), (left, right)):
        if _threshold(literal) is not None and _is_score(other):
            return literal, other
    return None


def _in_metric_or_text(ctx: Context) -> bool:
    """Inside a metric's definition (a Keras ``def precision_metric(y_true, y_pred)``) or an
    f-string: the cut-off measures or describes, it decides nothing."""
    for ancestor in ctx.ancestors:
        if isinstance(ancestor, cst.FormattedStringExpression):
            return True
        if isinstance(ancestor, cst.FunctionDef) and "metric" in ancestor.name.value.lower():
            return True
    return False


def _report_once(
    node: cst.Comparison,
    literal: cst.BaseExpression,
    other: cst.BaseExpression,
    ctx: Context[State],
) -> None:
    if _skipped_file(ctx) or _in_display_code(ctx) or _passed_to_logging(ctx):
        return
    if _in_metric_or_text(ctx):
        return
    # One finding per statement: `"high" if p > 0.7 else "mid" if p > 0.3` is one
    # hard-coded policy.
    statement = ctx.enclosing(cst.SimpleStatementLine, cst.BaseCompoundStatement)
    reported = ctx.state.statements
    if id(statement) in reported:
        return
    reported.add(id(statement))
    ctx.report(node, value=ctx.code(literal), score=_short(other, ctx))


def visit_Comparison(node: cst.Comparison, ctx: Context[State]) -> None:
    left = node.left
    for target in node.comparisons:
        right = target.comparator
        if isinstance(
            target.operator,
            cst.LessThan | cst.LessThanEqual | cst.GreaterThan | cst.GreaterThanEqual,
        ):
            pair = _threshold_and_score(left, right)
            if pair is not None:
                _report_once(node, *pair, ctx)
                return
        left = right
