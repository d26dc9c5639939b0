"""
What it does
------------
Flags a file that evaluates a classifier only with metrics computed on hard predictions:
``accuracy_score``, ``f1_score``, ``fbeta_score``, ``precision_score``, ``recall_score``,
``balanced_accuracy_score`` or ``classification_report`` from ``sklearn.metrics``, applied to
the output of ``.predict(...)`` (directly, or through a name assigned from it), while the file
never computes a threshold-independent metric. The first such call is reported, once per file.

A file counts as also measuring ranking quality when it mentions ``roc_auc_score``, ``roc_curve``,
``auc``, ``average_precision_score``, ``precision_recall_curve``, ``log_loss``,
``brier_score_loss``, ``det_curve``, their display classes, or a scorer or eval-metric string such
as ``"roc_auc"``, ``"average_precision"``, ``"neg_log_loss"``, ``"logloss"`` or ``"auc"``.
Regression metrics never trigger the rule. Skipped: test files, and a ``score`` method of an
estimator class, which scikit-learn's API defines as accuracy.

Why is this bad?
----------------
``.predict`` turns scores into labels with a fixed cut-off (0.5 for most binary classifiers).
Accuracy, F1, precision and recall then measure that one operating point, not the model: a
better model can score worse because its scores are calibrated differently, and the numbers
move when the class balance of the incoming data shifts. The threshold that production uses is
usually chosen later, from costs and volumes, so a comparison made at 0.5 says little about
the model that is deployed. A threshold-independent metric (ROC AUC, average precision, log
loss) compares models on their scores; the threshold can then be tuned separately.

Example
-------
.. code-block:: python

    from sklearn.metrics import f1_score

    y_pred = model.predict(X_valid)
    print("f1", f1_score(y_valid, y_pred))

Use instead
-----------
.. code-block:: python

    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    scores = model.predict_proba(X_valid)[:, 1]
    print("roc auc", roc_auc_score(y_valid, scores))
    print("average precision", average_precision_score(y_valid, scores))
    print("f1 at 0.5", f1_score(y_valid, scores > 0.5))

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": Threshold-Dependent Validation
- scikit-learn user guide, "Metrics and scoring" and "Tuning the decision threshold for class
  prediction" (``TunedThresholdClassifierCV``)
- dslinter ``dependent-threshold-scikitlearn`` (F1 used without AUC); no ruff, pylint or
  SonarQube equivalent
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword, method_name

RULE = Rule(
    code="DEBT1104",
    name="threshold-dependent-validation",
    principle="external-world",
    severity="info",
    message="Also report a threshold-independent metric such as `roc_auc_score` or `average_precision_score` on predicted scores; `{metric}` on `.predict()` output only measures one cut-off.",
    valid=(
        # Near miss: the file also computes AUC.
        """
from sklearn.metrics import f1_score, roc_auc_score

y_pred = model.predict(X_valid)
print(f1_score(y_valid, y_pred), roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]))
""",
        # Near miss: a regressor.
        """
from sklearn.metrics import mean_absolute_error, r2_score

pred = reg.predict(X_test)
print(mean_absolute_error(y_test, pred), r2_score(y_test, pred))
""",
        # Near miss: in a test file.
        Example(
            """
from sklearn.metrics import accuracy_score

def test_model_beats_baseline(model, X, y):
    assert accuracy_score(y, model.predict(X)) > 0.8
""",
            path="tests/test_model.py",
        ),
        # Near miss: the cross-validation scorer is threshold-independent.
        """
from sklearn.metrics import accuracy_score
from sklearn.model_selection import cross_val_score

cv_auc = cross_val_score(model, X, y, scoring="roc_auc")
acc = accuracy_score(y_test, model.predict(X_test))
""",
        # Near miss: a classifier wrapper implementing scikit-learn's `score` contract.
        """
from sklearn.metrics import accuracy_score

class Wrapper:
    def score(self, X, y, sample_weight=None):
        return accuracy_score(y, self.clf.predict(X), sample_weight=sample_weight)
""",
        # Near miss: accuracy of something that is not a model's `.predict` output.
        """
from sklearn.metrics import accuracy_score

agreement = accuracy_score(labels_annotator_a, labels_annotator_b)
""",
    ),
    invalid=(
        Example(
            """
from sklearn.metrics import f1_score, precision_score

y_pred = model.predict(X_valid)
print("f1", f1_score(y_valid, y_pred))
print("precision", precision_score(y_valid, y_pred))
""",
            line=4,
        ),
        Example(
            """
from sklearn import metrics

def evaluate(clf, X, y):
    return {"acc": metrics.accuracy_score(y, clf.predict(X))}
""",
            line=4,
        ),
        """
from sklearn.metrics import classification_report

preds = (net.predict(X_test) > 0.5).astype(int)
print(classification_report(y_test, y_pred=preds))
""",
    ),
)

_THRESHOLD_METRICS = frozenset(
    {
        "accuracy_score", "f1_score", "fbeta_score", "precision_score", "recall_score",
        "balanced_accuracy_score", "classification_report", "precision_recall_fscore_support",
    }
)  # fmt: skip
_INDEPENDENT = re.compile(
    r"roc_auc|roc_curve|\bauc\b|average_precision|precision_recall_curve|log_?loss|brier"
    r"|det_curve|RocCurveDisplay|PrecisionRecallDisplay|\bAUC\b|AUROC|AUPRC",
    re.IGNORECASE,
)


@dataclass
class State:
    """Names bound to a model's predictions, and the first metric computed on them."""

    predicted: set[str] = field(default_factory=set)
    # The metric call and its name: one finding per file, so later calls are not looked at.
    first: tuple[cst.Call, str] | None = None


def _contains_predict(expr: cst.CSTNode) -> bool:
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Call) and method_name(node) == "predict":
            return True
        if isinstance(node, cst.Lambda | cst.FunctionDef):
            continue
        pending.extend(node.children)
    return False


def _record_prediction(ctx: Context[State]) -> None:
    """``y_pred = model.predict(X)``: remember ``y_pred`` (the call being visited is inside)."""
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, cst.Lambda | cst.FunctionDef | cst.BaseStatement):
            return
        if isinstance(ancestor, cst.Assign):
            predicted = ctx.state.predicted
            predicted.update(
                t.target.value for t in ancestor.targets if isinstance(t.target, cst.Name)
            )
            return


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if ctx.state.first is not None or ctx.is_test:
        return
    if method_name(node) == "predict":
        _record_prediction(ctx)
        return
    func = node.func
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    if last not in _THRESHOLD_METRICS:
        return
    name = ctx.call_name(node) or ""
    if not name.startswith("sklearn.metrics."):
        return
    predicted = keyword(node, "y_pred")
    if predicted is None:
        positional = [a for a in node.args if a.keyword is None]
        predicted = positional[1] if len(positional) > 1 else None
    if predicted is None:
        return
    function = ctx.enclosing(cst.FunctionDef)
    if function is not None and function.name.value in {"score", "_score"}:
        return  # an estimator's `score` method: scikit-learn's API defines it as accuracy
    value = predicted.value
    names = ctx.state.predicted
    if (isinstance(value, cst.Name) and value.value in names) or _contains_predict(value):
        ctx.state.first = (node, last)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    first = ctx.state.first
    if first is None or _INDEPENDENT.search(ctx.text):
        return
    call, metric = first
    ctx.report(call, metric=metric)
