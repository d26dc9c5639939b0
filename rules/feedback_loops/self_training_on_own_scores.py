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

import libcst as cst

from rules import Context, Example, Rule
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

_PREDICT = frozenset(
    {
        "predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
        "predict_on_batch",
    }
)  # fmt: skip
_FIT = frozenset({"fit", "partial_fit"})
_APPENDERS = frozenset({"append", "extend", "insert", "update", "add", "appendleft"})
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


# -- cheap pre-check during the walk -------------------------------------------------------------


def visit_Call(node: cst.Call, ctx: Context) -> None:
    method = method_name(node)
    if method not in _PREDICT and method not in _FIT:
        return
    if ctx.is_test:
        return
    scope = ctx.enclosing(cst.FunctionDef)
    flags = ctx.state.setdefault("scopes", {}).setdefault(id(scope), [scope, set()])
    flags[1].add("predict" if method in _PREDICT else "fit")


def leave_Module(node: cst.Module, ctx: Context) -> None:
    reported: set[int] = set()
    for scope, flags in ctx.state.get("scopes", {}).values():
        if flags != {"predict", "fit"}:
            continue
        body = node.body if scope is None else _block(scope.body)
        state = {"taint": {}, "cols": {}, "version": {}, "trained": {}}
        _statements(body, state, reported, ctx)


# -- statement-order data flow -------------------------------------------------------------------


def _block(suite: cst.BaseSuite) -> tuple[cst.BaseStatement, ...]:
    if isinstance(suite, cst.IndentedBlock):
        return tuple(suite.body)
    return (suite,)  # SimpleStatementSuite: `if x: a = 1`


def _statements(statements, state: dict, reported: set[int], ctx: Context) -> None:
    for statement in statements:
        _statement(statement, state, reported, ctx)


def _statement(statement: cst.CSTNode, state: dict, reported: set[int], ctx: Context) -> None:
    if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        for small in statement.body:
            _small(small, state, reported, ctx)
    elif isinstance(statement, cst.If):
        _check_fits(statement.test, state, reported, ctx)
        _statements(_block(statement.body), state, reported, ctx)
        if statement.orelse is not None:
            _statement(statement.orelse, state, reported, ctx)
    elif isinstance(statement, cst.Else | cst.Finally | cst.ExceptHandler | cst.ExceptStarHandler):
        _statements(_block(statement.body), state, reported, ctx)
    elif isinstance(statement, cst.For):
        _check_fits(statement.iter, state, reported, ctx)
        for _ in range(2):  # a second round sees what the loop feeds back into itself
            _bind(statement.target, _labels(statement.iter, state), state)
            _statements(_block(statement.body), state, reported, ctx)
        if statement.orelse is not None:
            _statement(statement.orelse, state, reported, ctx)
    elif isinstance(statement, cst.While):
        for _ in range(2):
            _check_fits(statement.test, state, reported, ctx)
            _statements(_block(statement.body), state, reported, ctx)
    elif isinstance(statement, cst.With):
        for item in statement.items:
            _check_fits(item.item, state, reported, ctx)
            if item.asname is not None:
                _bind(item.asname.name, _labels(item.item, state), state)
        _statements(_block(statement.body), state, reported, ctx)
    elif isinstance(statement, cst.Try | cst.TryStar):
        _statements(_block(statement.body), state, reported, ctx)
        for part in (*statement.handlers, statement.orelse, statement.finalbody):
            if part is not None:
                _statement(part, state, reported, ctx)


def _small(small: cst.CSTNode, state: dict, reported: set[int], ctx: Context) -> None:
    if isinstance(small, cst.Assign | cst.AnnAssign | cst.AugAssign):
        if small.value is None:
            return
        _check_fits(small.value, state, reported, ctx)
        labels = _labels(small.value, state)
        targets = (
            [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
        )
        for target in targets:
            if isinstance(small, cst.AugAssign):
                labels = labels | _labels(target, state)
            _assign(target, labels, small.value, state)
    elif isinstance(small, cst.Expr):
        _check_fits(small.value, state, reported, ctx)
        call = small.value
        if isinstance(call, cst.Call) and method_name(call) in _APPENDERS:
            key = dotted(call.func.value)
            labels = set().union(*(_labels(a.value, state) for a in call.args))
            if key is not None and labels:
                grown = {(k, v, f, True) for k, v, f, _ in labels}
                state["taint"][key] = state["taint"].get(key, frozenset()) | grown
    else:
        _check_fits(small, state, reported, ctx)


def _assign(target: cst.BaseExpression, labels: set, value, state: dict) -> None:
    if isinstance(target, cst.Subscript):
        base = target.value
        column = _single_column(target)
        if isinstance(base, cst.Attribute) and base.attr.value in _INDEXERS:
            base = base.value
        key = dotted(base)
        if key is None:
            return
        if column is not None:
            columns = state["cols"].setdefault(key, {})
            if labels:
                columns[column] = frozenset(labels)
            else:
                columns.pop(column, None)
        elif labels:
            state["taint"][key] = state["taint"].get(key, frozenset()) | labels
        return
    _bind(target, labels, state, value)


def _bind(target: cst.CSTNode, labels: set, state: dict, value=None) -> None:
    if isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _bind(element.value, labels, state)
        return
    if isinstance(target, cst.StarredElement):
        _bind(target.value, labels, state)
        return
    key = dotted(target)
    if key is None:
        return
    state["taint"][key] = frozenset(labels)
    state["cols"].pop(key, None)
    refit = (
        isinstance(value, cst.Call)
        and method_name(value) in _FIT
        and dotted(value.func.value) == key
    )
    if not refit:  # `model = model.fit(...)` keeps the same object
        state["version"][key] = state["version"].get(key, 0) + 1
        state["trained"].pop(key, None)


def _check_fits(node: cst.CSTNode, state: dict, reported: set[int], ctx: Context) -> None:
    fits = [c for c in _calls(node) if method_name(c) in _FIT]
    for call in fits:
        model = dotted(call.func.value)
        if model is None:
            continue
        data = [a for a in call.args if a.keyword is None or a.keyword.value not in _NOT_DATA]
        labels = set().union(*(_labels(a.value, state) for a in data))
        version = state["version"].get(model, 0)
        for key, seen_version, fit, grown in labels:
            # The same object refitted on its own output; or a fresh model in a loop whose
            # training set keeps growing with the previous round's predictions.
            if key == model and (seen_version == version or (fit == id(call) and grown)):
                if id(call) not in reported:
                    reported.add(id(call))
                    ctx.report(call, model=model)
                break
    for call in fits:
        model = dotted(call.func.value)
        if model is not None:
            state["trained"][model] = id(call)


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef):
            continue
        if isinstance(current, cst.Call):
            found.append(current)
        pending.extend(current.children)
    return found


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


def _whole(key: str, state: dict) -> set:
    labels = set(state["taint"].get(key, ()))
    for column_labels in state["cols"].get(key, {}).values():
        labels |= column_labels
    return labels


def _attribute_labels(expr: cst.Attribute, key: str, state: dict) -> set:
    base = dotted(expr.value) or ""
    labels = set(state["taint"].get(key, ()))
    prefix = expr.value
    while prefix is not None:  # `df.values.T` carries what `df` carries
        labels |= state["taint"].get(dotted(prefix) or "", set())
        prefix = prefix.value if isinstance(prefix, cst.Attribute) else None
    columns = state["cols"].get(base, {})
    if expr.attr.value in columns:
        labels |= columns[expr.attr.value]
    elif expr.attr.value in _WHOLE:
        labels |= _whole(base, state)
    return labels


def _call_labels(expr: cst.Call, state: dict) -> set:
    labels: set = set()
    func = expr.func
    if isinstance(func, cst.Attribute):
        receiver = dotted(func.value)
        if func.attr.value in _PREDICT and receiver is not None:
            version = state["version"].get(receiver, 0)
            labels.add((receiver, version, state["trained"].get(receiver), False))
        elif receiver is not None:
            labels |= _whole(receiver, state)  # `df.copy()`, `df.drop(...)`
        else:
            labels |= _labels(func.value, state)
    for arg in expr.args:
        labels |= _labels(arg.value, state)
    grows = func.attr.value if isinstance(func, cst.Attribute) else None
    if isinstance(func, cst.Name):
        grows = func.value
    if grows in _GROWERS:
        labels = {(k, v, f, True) for k, v, f, _ in labels}
    return labels


def _subscript_labels(expr: cst.Subscript, state: dict) -> set:
    base = expr.value
    indexer = isinstance(base, cst.Attribute) and base.attr.value in _INDEXERS
    key = dotted(base.value if indexer else base)
    labels = set()
    if key is not None:
        labels |= state["taint"].get(key, set())
        columns = state["cols"].get(key)
        if columns:
            for column in _columns(expr) or ():
                labels |= columns.get(column, set())
    else:
        labels |= _labels(base, state)
    for element in expr.slice:
        labels |= _labels(element.slice, state)
    return labels


def _labels(expr: cst.CSTNode, state: dict) -> set:
    if isinstance(expr, cst.Name):
        return _whole(expr.value, state)
    if isinstance(expr, cst.Attribute):
        key = dotted(expr)
        if key is not None:
            return _attribute_labels(expr, key, state)
    if isinstance(expr, cst.Call):
        return _call_labels(expr, state)
    if isinstance(expr, cst.Subscript):
        return _subscript_labels(expr, state)
    if isinstance(expr, cst.Lambda):
        return set()
    labels = set()
    for child in expr.children:
        labels |= _labels(child, state)
    return labels
