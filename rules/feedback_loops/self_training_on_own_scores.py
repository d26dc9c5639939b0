"""
What it does
------------
Flags a ``fit`` (or ``partial_fit``) call whose training rows or labels were selected or produced
by the same model's own predictions: ``m.fit(X[m.predict_proba(X)[:, 1] > t], ...)``, or through
intermediate names (``scores = m.predict_proba(X)``, ``X_conf = X[scores > 0.9]``,
``m.fit(X_conf, ...)``), or ``df["label"] = m.predict(df)`` followed by a fit on ``df``. The
classic self-training loop, where each round refits on the rows the previous round was sure
about, is found too, including when the estimator is re-created every round and the training
set grows with the predicted rows (``pd.concat``, ``np.vstack``, ``.append``).

The rule follows names assigned in one function (or at module level), in statement order; a
column written with ``df["col"] = ...`` only taints reads of that column or of the whole frame.
It does not flag a *different* model's predictions used as input (stacking, distillation,
``student.fit(X, teacher.predict(X))``): that is a visible design decision with its own data
dependency, not a loop. Nor does it flag boosting written by hand: sample weights
(``sample_weight=``) or residual targets computed from a previous round's fresh estimator are
how boosting works. Predictions made after the last fit, for evaluation or submission, are
not a finding either. Test files are skipped.

Why is this bad?
----------------
A model trained on rows it picked itself, or on labels it produced, learns to agree with itself.
Its errors are confirmed rather than corrected, the confident region grows round after round, and
offline metrics computed on the same pseudo-labelled data look better and better while the model
drifts away from the real labels. Because the loop is hidden inside the training code, nobody
downstream can tell which labels were observed and which were guessed.

Example
-------
.. code-block:: python

    clf.fit(X_labeled, y_labeled)
    proba = clf.predict_proba(X_unlabeled)
    confident = proba.max(axis=1) > 0.95
    clf.fit(
        np.vstack([X_labeled, X_unlabeled[confident]]),
        np.concatenate([y_labeled, proba.argmax(axis=1)[confident]]),
    )

Use instead
-----------
If self-training is intended, make it explicit and measurable: use a dedicated, tested
implementation, cap the number of rounds, keep pseudo-labels marked as such, and evaluate on a
labelled hold-out set that never receives pseudo-labels:

.. code-block:: python

    from sklearn.semi_supervised import SelfTrainingClassifier

    X = np.vstack([X_labeled, X_unlabeled])
    y = np.concatenate([y_labeled, np.full(len(X_unlabeled), -1)])  # -1 = unlabelled
    model = SelfTrainingClassifier(clf, threshold=0.95, max_iter=5).fit(X, y)
    report(model, X_holdout, y_holdout)

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": hidden feedback loops
- scikit-learn ``sklearn.semi_supervised.SelfTrainingClassifier``
- No equivalent rule in ruff, pylint or dslinter
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.dataflow import StatementWalk, block, calls
from rules.ml.estimators import FIT_METHODS, PREDICT_METHODS
from rules.names import dotted, method_name, string_value

RULE = Rule(
    code="DEBT602",
    name="self-training-on-own-scores",
    principle="feedback-loops",
    severity="warning",
    message="Train `{model}` on independently labelled rows, not on rows selected or labelled by its own predictions.",
    valid=(
        # Near miss: stacking, a different model's predictions are a feature.
        """
from sklearn.linear_model import LogisticRegression

base.fit(X_train, y_train)
meta_features = base.predict_proba(X_holdout)
meta = LogisticRegression()
meta.fit(meta_features, y_holdout)
""",
        # Near miss: predict after fit only.
        """
def train_and_score(model, X_train, y_train, X_test):
    model.fit(X_train, y_train)
    preds = model.predict(X_test)
    return preds
""",
        # Near miss: cross-validation predictions, then a fresh meta-model under the same name.
        """
import numpy as np

oof = np.zeros(len(X))
for tr, va in folds:
    model = make_model()
    model.fit(X[tr], y[tr])
    oof[va] = model.predict_proba(X[va])[:, 1]
model = LogisticRegression()
model.fit(oof.reshape(-1, 1), y)
""",
        # Near miss: boosting by hand, each round a fresh learner reweighted by the last errors.
        """
import numpy as np

weights = np.ones(len(X)) / len(X)
for _ in range(5):
    clf = SVC(kernel="rbf")
    clf.fit(X, y, sample_weight=weights * len(X))
    wrong = clf.predict(X) != y
    weights[wrong] *= 2.0
    weights /= weights.sum()
""",
        # Near miss: gradient boosting by hand, fresh trees fitted to residuals.
        """
pred = np.zeros(len(y))
for _ in range(100):
    tree = DecisionTreeRegressor(max_depth=3)
    tree.fit(X, y - pred)
    pred += 0.1 * tree.predict(X)
""",
        # Near miss: a prediction column is written, but the fit reads other columns.
        """
def evaluate(model, df, features):
    model.fit(df[features], df["target"])
    df["pred"] = model.predict(df[features])
    model.fit(df[features], df["target"])
""",
    ),
    invalid=(
        Example(
            """
def pseudo_label(model, X, y, X_unlabeled, threshold=0.9):
    model.fit(X, y)
    scores = model.predict_proba(X_unlabeled)
    confident = X_unlabeled[scores[:, 1] > threshold]
    model.fit(confident, (scores[:, 1] > threshold).astype(int))
    return model
""",
            line=5,
        ),
        Example(
            """
import pandas as pd

clf.fit(train[FEATURES], train["label"])
test["label"] = clf.predict(test[FEATURES])
combined = pd.concat([train, test])
clf.fit(combined[FEATURES], combined["label"])
""",
            line=6,
        ),
        Example(
            """
import numpy as np

for round_ in range(5):
    model = make_model()
    model.fit(X_l, y_l)
    proba = model.predict_proba(X_u)
    keep = proba.max(axis=1) > 0.95
    X_l = np.vstack([X_l, X_u[keep]])
    y_l = np.concatenate([y_l, proba.argmax(axis=1)[keep]])
""",
            line=5,
        ),
        "m.fit(X[m.predict_proba(X)[:, 1] > 0.8], y[m.predict_proba(X)[:, 1] > 0.8])",
    ),
)

_GROWERS = frozenset({"concat", "concatenate", "vstack", "hstack", "row_stack", "append", "cat"})
# Keyword arguments that weight or monitor the fit rather than choose its rows and labels;
# boosting by hand reweights with its own errors on purpose.
_NOT_DATA = frozenset(
    {
        "sample_weight", "sample_weights", "weights", "class_weight", "init_score",
        "base_margin", "eval_set", "eval_sample_weight", "validation_data", "callbacks",
    }
)  # fmt: skip
_INDEXERS = frozenset({"loc", "iloc", "at", "iat"})
_WHOLE = frozenset({"values", "T", "loc", "iloc", "array"})

# A label says: "this value carries predictions of model <key>", made while the name pointed at
# object <version>, last trained by the fit call with id <fit>; <grown> once the predicted rows
# were appended to other data (`pd.concat`, `np.vstack`, `rows.append`).
Label = tuple[str, int, int | None, bool]


@dataclass
class State:
    # The scopes (a function, or None for the module) that both predict and fit, by id.
    scopes: dict[int, tuple[cst.FunctionDef | None, set[str]]] = field(default_factory=dict)


# -- cheap pre-check during the walk -------------------------------------------------------------


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    method = method_name(node)
    if method not in PREDICT_METHODS and method not in FIT_METHODS:
        return
    if ctx.is_test:
        return
    scope = ctx.enclosing(cst.FunctionDef)
    assert scope is None or isinstance(scope, cst.FunctionDef)
    _, flags = ctx.state.scopes.setdefault(id(scope), (scope, set()))
    flags.add("predict" if method in PREDICT_METHODS else "fit")


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    reported: set[int] = set()
    for scope, flags in ctx.state.scopes.values():
        if flags != {"predict", "fit"}:
            continue
        body = node.body if scope is None else block(scope.body)
        _SelfTraining(reported, ctx).walk(body)


# -- statement-order data flow -------------------------------------------------------------------


class _SelfTraining(StatementWalk[Label]):
    """Follows predictions of each model through one scope, and reports fits that use them."""

    def __init__(self, reported: set[int], ctx: Context[State]) -> None:
        self.reported = reported
        self.ctx = ctx
        self.taint: dict[str, frozenset[Label]] = {}
        self.cols: dict[str, dict[str, frozenset[Label]]] = {}  # labels of single columns
        self.version: dict[str, int] = {}  # how often a name was rebound to a new object
        self.trained: dict[str, int] = {}  # the fit call that last trained a name

    def evaluate(self, node: cst.CSTNode) -> None:
        fits = [c for c in calls(node) if method_name(c) in FIT_METHODS]
        for call in fits:
            model = dotted(call.func.value)
            if model is None:
                continue
            data = [a for a in call.args if a.keyword is None or a.keyword.value not in _NOT_DATA]
            labels: set[Label] = set().union(*(self.labels(a.value) for a in data))
            version = self.version.get(model, 0)
            for key, seen_version, fit, grown in labels:
                # The same object refitted on its own output; or a fresh model in a loop whose
                # training set keeps growing with the previous round's predictions.
                if key == model and (seen_version == version or (fit == id(call) and grown)):
                    if id(call) not in self.reported:
                        self.reported.add(id(call))
                        self.ctx.report(call, model=model)
                    break
        for call in fits:
            model = dotted(call.func.value)
            if model is not None:
                self.trained[model] = id(call)

    def appended(self, receiver: str, call: cst.Call, labels: set[Label]) -> None:
        if labels:
            grown = {(k, v, f, True) for k, v, f, _ in labels}
            self.taint[receiver] = self.taint.get(receiver, frozenset()) | grown

    def bind(self, target: cst.CSTNode, value: cst.CSTNode, labels: set[Label]) -> None:
        if isinstance(target, cst.Subscript):
            base = target.value
            column = _single_column(target)
            if isinstance(base, cst.Attribute) and base.attr.value in _INDEXERS:
                base = base.value
            key = dotted(base)
            if key is None:
                return
            if column is not None:
                columns = self.cols.setdefault(key, {})
                if labels:
                    columns[column] = frozenset(labels)
                else:
                    columns.pop(column, None)
            elif labels:
                self.taint[key] = self.taint.get(key, frozenset()) | labels
            return
        self._rebind(target, labels, value)

    def _rebind(self, target: cst.CSTNode, labels: set[Label], value: cst.CSTNode | None) -> None:
        if isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._rebind(element.value, labels, None)
            return
        if isinstance(target, cst.StarredElement):
            self._rebind(target.value, labels, None)
            return
        key = dotted(target)
        if key is None:
            return
        self.taint[key] = frozenset(labels)
        self.cols.pop(key, None)
        refit = (
            isinstance(value, cst.Call)
            and method_name(value) in FIT_METHODS
            and dotted(value.func.value) == key
        )
        if not refit:  # `model = model.fit(...)` keeps the same object
            self.version[key] = self.version.get(key, 0) + 1
            self.trained.pop(key, None)

    # -- what a value carries ------------------------------------------------------------------

    def labels(self, expr: cst.CSTNode) -> set[Label]:
        if isinstance(expr, cst.Name):
            return self._whole(expr.value)
        if isinstance(expr, cst.Attribute):
            key = dotted(expr)
            if key is not None:
                return self._attribute_labels(expr, key)
        if isinstance(expr, cst.Call):
            return self._call_labels(expr)
        if isinstance(expr, cst.Subscript):
            return self._subscript_labels(expr)
        if isinstance(expr, cst.Lambda):
            return set()
        labels: set[Label] = set()
        for child in expr.children:
            labels |= self.labels(child)
        return labels

    def _whole(self, key: str) -> set[Label]:
        labels = set(self.taint.get(key, ()))
        for column_labels in self.cols.get(key, {}).values():
            labels |= column_labels
        return labels

    def _attribute_labels(self, expr: cst.Attribute, key: str) -> set[Label]:
        base = dotted(expr.value) or ""
        labels = set(self.taint.get(key, ()))
        prefix: cst.BaseExpression | None = expr.value
        while prefix is not None:  # `df.values.T` carries what `df` carries
            labels |= self.taint.get(dotted(prefix) or "", set())
            prefix = prefix.value if isinstance(prefix, cst.Attribute) else None
        columns = self.cols.get(base, {})
        if expr.attr.value in columns:
            labels |= columns[expr.attr.value]
        elif expr.attr.value in _WHOLE:
            labels |= self._whole(base)
        return labels

    def _call_labels(self, expr: cst.Call) -> set[Label]:
        labels: set[Label] = set()
        func = expr.func
        if isinstance(func, cst.Attribute):
            receiver = dotted(func.value)
            if func.attr.value in PREDICT_METHODS and receiver is not None:
                version = self.version.get(receiver, 0)
                labels.add((receiver, version, self.trained.get(receiver), False))
            elif receiver is not None:
                labels |= self._whole(receiver)  # `df.copy()`, `df.drop(...)`
            else:
                labels |= self.labels(func.value)
        for arg in expr.args:
            labels |= self.labels(arg.value)
        grows = func.attr.value if isinstance(func, cst.Attribute) else None
        if isinstance(func, cst.Name):
            grows = func.value
        if grows in _GROWERS:
            labels = {(k, v, f, True) for k, v, f, _ in labels}
        return labels

    def _subscript_labels(self, expr: cst.Subscript) -> set[Label]:
        base = expr.value
        indexer = isinstance(base, cst.Attribute) and base.attr.value in _INDEXERS
        key = dotted(base.value if indexer else base)
        labels: set[Label] = set()
        if key is not None:
            labels |= self.taint.get(key, set())
            columns = self.cols.get(key)
            if columns:
                for column in _columns(expr) or ():
                    labels |= columns.get(column, set())
        else:
            labels |= self.labels(base)
        for element in expr.slice:
            labels |= self.labels(element.slice)
        return labels


def _single_column(target: cst.Subscript) -> str | None:
    """`"label"` for `df["label"]` or `df.loc[mask, "label"]`."""
    elements = target.slice
    last = elements[-1].slice if elements else None
    if isinstance(last, cst.Index):
        return string_value(last.value)
    return None


def _columns(subscript: cst.Subscript) -> set[str] | None:
    """Column names a subscript reads when they are literals: `df["a"]`, `df[["a", "b"]]`."""
    names: set[str] = set()
    for element in subscript.slice:
        if not isinstance(element.slice, cst.Index):
            continue
        value = element.slice.value
        text = string_value(value)
        if text is not None:
            names.add(text)
        elif isinstance(value, cst.List | cst.Tuple):
            names.update(s for e in value.elements if (s := string_value(e.value)) is not None)
    return names or None
