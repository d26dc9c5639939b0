"""
What it does
------------
Flags a fitted preprocessing step that has seen the evaluation data: a scikit-learn scaler,
imputer, decomposition (``PCA``, ``TruncatedSVD`` ...), feature selector (``SelectKBest``,
``RFE`` ...), ``TfidfVectorizer`` or target encoder that is ``fit`` / ``fit_transform`` on data
which, later in the same function (or module), is

- split with ``train_test_split`` or a splitter's ``.split(...)`` (``KFold(...)``),
- cross-validated with ``cross_val_score`` / ``cross_validate`` / ``cross_val_predict``,
- or sliced into a test or validation set (``X_test = X_scaled[800:]``);

and such a step fitted on the concatenation of the training and test sets
(``scaler.fit(pd.concat([train, test]))``).

The classes are resolved through the imports (``sklearn.preprocessing.StandardScaler``,
``category_encoders.TargetEncoder`` ...). Names are followed in statement order: the fitted
data (``X``), the transformed output (``X_scaled = scaler.fit_transform(X)``) and names derived
from either count; rebinding a name to unrelated data clears it. Stateless transformers
(``Normalizer``, ``PolynomialFeatures``) and category encoders that only learn the list of
categories (``OneHotEncoder``, ``LabelEncoder``) are not reported: what they learn from the test
rows does not move the evaluation. Nor is a fit switched off with ``if False:``.

Why is this bad?
----------------
The test rows contribute to what the step learns: their mean and variance, the principal
components, the features that correlate best with the label, the target mean of each category.
The model is then evaluated on data its own preprocessing was fitted on, so the validation
score is optimistic, sometimes wildly so for supervised steps like feature selection and
target encoding. In production the step only sees past data, and the model does worse than
promised. Fitting on a competition's unlabelled test set together with the training set is
reported too: the model then depends on data that will not exist when it is retrained and
served, and the cross-validation folds inside the training set are no longer independent of the
preprocessing.

Example
-------
.. code-block:: python

    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

Use instead
-----------
Split first and fit on the training part only, or put the step in a pipeline so that each
fold refits it:

.. code-block:: python

    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(X_train, y_train)

References
----------
- scikit-learn user guide, "Common pitfalls and recommended practices: data leakage"
- Zhang et al., "Code Smells for Machine Learning Applications": Data Leakage
- dslinter ``pipeline-not-used-scikitlearn`` (asks for a ``Pipeline`` whenever preprocessing and
  an estimator meet in one file; broader and noisier)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, keyword, method_name, string_value

RULE = Rule(
    code="DEBT309",
    name="fit-before-split",
    principle="cutting-corners",
    severity="error",
    message="Fit `{transformer}` on the training data only: {why}, so the evaluation data leaks into the preprocessing.",
    valid=(
        # Near miss: fit after the split, on the training part.
        """
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
""",
        # Near miss: the scaler is inside the pipeline that is cross-validated.
        """
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.linear_model import LogisticRegression

model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0))
scores = cross_val_score(model, X, y, cv=5)
""",
        # Near miss: the name is rebound to fresh data before the split.
        """
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

pca = PCA(n_components=2)
embedding = pca.fit_transform(reference)
X = load_features()
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
""",
        # Near miss: encoders that only learn the category list.
        """
import pandas as pd
from sklearn.preprocessing import LabelEncoder

enc = LabelEncoder()
enc.fit(pd.concat([train["city"], test["city"]]))
""",
        # Near miss: a name that is not an sklearn transformer.
        """
from sklearn.model_selection import train_test_split

tokenizer.fit(texts)
train_texts, test_texts = train_test_split(texts, random_state=0)
""",
        # Near miss: an experiment kept but switched off.
        """
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

if False:
    X = PCA(n_components=20).fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
""",
    ),
    invalid=(
        Example(
            """
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

scaler = StandardScaler()
X = scaler.fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
""",
            line=5,
        ),
        Example(
            """
from sklearn.feature_selection import SelectKBest
from sklearn.model_selection import cross_val_score

def evaluate(model, X, y):
    X_selected = SelectKBest(k=25).fit_transform(X, y)
    return cross_val_score(model, X_selected, y, cv=5)
""",
            line=5,
        ),
        Example(
            """
import pandas as pd
from sklearn.impute import SimpleImputer

imputer = SimpleImputer(strategy="median")
imputer.fit(pd.concat([train[cols], test[cols]]))
""",
            line=5,
        ),
        Example(
            """
from sklearn import preprocessing

features = preprocessing.MinMaxScaler().fit_transform(df[cols])
X_train, X_test = features[:800], features[800:]
""",
            line=3,
        ),
        Example(
            """
from sklearn.model_selection import KFold
from sklearn.decomposition import PCA

X = PCA(n_components=10).fit_transform(X)
for train_idx, valid_idx in KFold(n_splits=5).split(X):
    fit_fold(X[train_idx], X[valid_idx])
""",
            line=4,
        ),
    ),
)

_TRANSFORMERS = frozenset(
    {
        "StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "QuantileTransformer",
        "PowerTransformer", "KBinsDiscretizer", "SimpleImputer", "KNNImputer",
        "IterativeImputer", "PCA", "IncrementalPCA", "KernelPCA", "SparsePCA", "TruncatedSVD",
        "FastICA", "NMF", "FactorAnalysis", "LatentDirichletAllocation", "SelectKBest",
        "SelectPercentile", "SelectFpr", "SelectFdr", "SelectFwe", "GenericUnivariateSelect",
        "VarianceThreshold", "RFE", "RFECV", "SelectFromModel", "SequentialFeatureSelector",
        "TfidfVectorizer", "TfidfTransformer", "TargetEncoder",
    }
)  # fmt: skip
# category_encoders classes that learn from the target.
_SUPERVISED_ENCODERS = frozenset(
    {
        "TargetEncoder", "CatBoostEncoder", "WOEEncoder", "LeaveOneOutEncoder",
        "JamesSteinEncoder", "MEstimateEncoder", "GLMMEncoder", "QuantileEncoder",
    }
)  # fmt: skip
_SPLIT_FUNCTIONS = {  # qualified name -> index of the first data argument
    "sklearn.model_selection.train_test_split": 0,
    "sklearn.model_selection.cross_val_score": 1,
    "sklearn.model_selection.cross_validate": 1,
    "sklearn.model_selection.cross_val_predict": 1,
}
_SPLITTERS = frozenset(
    {
        "KFold", "StratifiedKFold", "GroupKFold", "StratifiedGroupKFold", "RepeatedKFold",
        "RepeatedStratifiedKFold", "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit",
        "TimeSeriesSplit", "LeaveOneOut", "LeavePOut", "LeaveOneGroupOut", "PredefinedSplit",
    }
)  # fmt: skip
_CONCATS = frozenset(
    {"pandas.concat", "numpy.concatenate", "numpy.vstack", "numpy.row_stack", "numpy.r_"}
)
_HELD_OUT = re.compile(r"test|(^|_)(val|valid|validation|holdout|dev)(_|$)", re.IGNORECASE)


@dataclass
class State:
    """What the names of each scope hold (transformers, fitted data, splitters), and reports."""

    # A stack of scopes (see _new_scope), the module's first.
    scopes: list[dict] = field(default_factory=lambda: [_new_scope()])
    # One entry per assignment being walked, applied to the scope when it is left.
    assigns: list[dict] = field(default_factory=list)
    # ids of the fit calls already reported
    reported: set[int] = field(default_factory=set)


def _transformer(call: cst.BaseExpression, ctx: Context) -> str | None:
    """The class name when ``call`` constructs a transformer this rule knows."""
    if not isinstance(call, cst.Call):
        return None
    name = ctx.call_name(call) or ""
    last = name.rsplit(".", 1)[-1]
    if name.startswith("sklearn.") and last in _TRANSFORMERS:
        return last
    if name.startswith("category_encoders.") and last in _SUPERVISED_ENCODERS:
        return last
    return None


def _scope(ctx: Context[State]) -> dict:
    return ctx.state.scopes[-1]


def _new_scope() -> dict:
    # transformers: name -> class; tainted: name -> (fit call, class); splitters: names;
    # combined: names bound to train+test concatenations.
    return {"transformers": {}, "tainted": {}, "splitters": set(), "combined": set()}


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.scopes.append(_new_scope())


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.scopes.pop()


def _names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _names(e.value)]
    if isinstance(target, cst.Subscript):  # df[cols] = ... keeps df's identity
        root = _data_root(target)
        return [root] if root else []
    return []


def _data_root(expr: cst.BaseExpression) -> str | None:
    """``X`` for ``X``, ``df[cols]``, ``df["a"]``, ``X.values``, ``df[cols].to_numpy()``."""
    while True:
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, cst.Attribute) and expr.attr.value == "values":
            expr = expr.value
        elif isinstance(expr, cst.Call) and method_name(expr) in {"to_numpy", "astype", "copy"}:
            expr = expr.func.value
        elif isinstance(expr, cst.Subscript) and _column_selector(expr):
            expr = expr.value
        else:
            return None


def _column_selector(subscript: cst.Subscript) -> bool:
    if len(subscript.slice) != 1 or not isinstance(subscript.slice[0].slice, cst.Index):
        return False
    value = subscript.slice[0].slice.value
    if isinstance(value, cst.Name | cst.Attribute) or string_value(value) is not None:
        return True
    if isinstance(value, cst.List):
        return all(string_value(e.value) is not None for e in value.elements)
    return False


def _mentions(expr: cst.CSTNode, names: dict | set) -> str | None:
    """The first tracked name the expression reads, if any."""
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Name):
            if node.value in names:
                return node.value
            continue
        if isinstance(node, cst.Attribute):
            pending.append(node.value)  # X.shape: only the object, not the attribute name
            continue
        if isinstance(node, cst.Arg) and node.keyword is not None:
            pending.append(node.value)
            continue
        pending.extend(node.children)
    return None


def _is_combined(expr: cst.BaseExpression, ctx: Context) -> bool:
    """``pd.concat([train, test])``, ``np.vstack((X_tr, X_te))``, ``train.append(test)``."""
    if isinstance(expr, cst.Name):
        return expr.value in _scope(ctx)["combined"]
    if isinstance(expr, cst.Subscript):
        return _is_combined(expr.value, ctx)
    if not isinstance(expr, cst.Call):
        return False
    parts: list[cst.BaseExpression] = []
    if ctx.call_name(expr) in _CONCATS and expr.args:
        first = expr.args[0].value
        if isinstance(first, cst.List | cst.Tuple):
            parts = [e.value for e in first.elements]
    elif method_name(expr) in {"append", "_append"} and len(expr.args) == 1:
        parts = [expr.func.value, expr.args[0].value]
    elif method_name(expr) in {"to_numpy", "copy", "reset_index", "fillna"}:
        return _is_combined(expr.func.value, ctx)
    roots = [_data_root(p) or "" for p in parts]
    held_out = [r for r in roots if _HELD_OUT.search(r)]
    return bool(held_out) and len(held_out) < len(roots)


def _switched_off(ctx: Context) -> bool:
    """Inside ``if False:`` or ``if 0:``: code kept but never run."""
    return any(
        isinstance(a, cst.If)
        and (
            (isinstance(a.test, cst.Name) and a.test.value == "False")
            or (isinstance(a.test, cst.Integer) and a.test.value == "0")
        )
        for a in ctx.ancestors
    )


def _report(fit: cst.Call, transformer: str, why: str, ctx: Context[State]) -> None:
    reported = ctx.state.reported
    if id(fit) in reported:
        return
    reported.add(id(fit))
    ctx.report(fit, transformer=transformer, why=why)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if ctx.is_test:
        return
    scope = _scope(ctx)
    value = node.value
    tainted = scope["tainted"]
    source = _mentions(value, tainted) if tainted else None
    # Bindings change when the statement is left, after the calls in its value have run.
    ctx.state.assigns.append(
        {
            "transformer": _transformer(value, ctx),
            "splitter": _is_splitter(value, ctx),
            "combined": _is_combined(value, ctx),
            "origin": tainted[source] if source is not None else None,
            "fitted": None,
        }
    )
    if source is None:
        return
    # X_test = X_scaled[800:]: evaluation rows carved out of data the step was fitted on.
    plain = [t.target for t in node.targets]
    flat = (
        [e.value for e in plain[0].elements]
        if len(plain) == 1 and isinstance(plain[0], cst.Tuple)
        else plain
    )
    parts = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else []
    for index, target in enumerate(flat):
        part = parts[index] if len(parts) == len(flat) else value
        if (
            isinstance(target, cst.Name)
            and _HELD_OUT.search(target.value)
            and isinstance(part, cst.Subscript)
            and not _column_selector(part)
        ):
            root = _data_root(part.value)
            if root in tainted:
                fit, cls = tainted[root]
                _report(fit, cls, f"`{target.value}` is then cut from `{root}`", ctx)


def leave_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if ctx.is_test:
        return
    info = ctx.state.assigns.pop()
    scope = _scope(ctx)
    origin = info["fitted"] or info["origin"]
    for target in node.targets:
        for name in _names(target.target):
            scope["transformers"].pop(name, None)
            scope["splitters"].discard(name)
            scope["combined"].discard(name)
            if info["transformer"]:
                scope["transformers"][name] = info["transformer"]
            if info["splitter"]:
                scope["splitters"].add(name)
            if info["combined"]:
                scope["combined"].add(name)
            if origin is None:
                scope["tainted"].pop(name, None)
            else:
                scope["tainted"][name] = origin


def _is_splitter(value: cst.BaseExpression, ctx: Context) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = ctx.call_name(value) or ""
    return name.startswith("sklearn.model_selection.") and name.rsplit(".", 1)[-1] in _SPLITTERS


def visit_Call(node: cst.Call, ctx: Context) -> None:
    method = method_name(node)
    if method in {"fit", "fit_transform"}:
        _fit(node, method, ctx)
    else:
        _split(node, method, ctx)


def _fit(node: cst.Call, method: str, ctx: Context[State]) -> None:
    receiver = node.func.value
    scope = _scope(ctx)
    cls = _transformer(receiver, ctx)
    if cls is None and isinstance(receiver, cst.Name):
        cls = scope["transformers"].get(receiver.value)
    if cls is None or ctx.is_test or _switched_off(ctx):
        return
    data = keyword(node, "X") or keyword(node, "raw_documents")
    if data is None:
        positional = [a for a in node.args if a.keyword is None]
        data = positional[0] if positional else None
    if data is None:
        return
    if _is_combined(data.value, ctx):
        _report(node, cls, "it is fitted on the training and test sets together", ctx)
        return
    tainted = scope["tainted"]
    root = _data_root(data.value)
    if root is not None:
        tainted[root] = (node, cls)
    outer = ctx.enclosing(cst.Assign, cst.FunctionDef, cst.Lambda)
    transforms = method == "fit_transform" or (
        isinstance(ctx.parent(), cst.Attribute) and ctx.parent().attr.value == "transform"
    )
    assigns = ctx.state.assigns
    if transforms and isinstance(outer, cst.Assign) and assigns:
        assigns[-1]["fitted"] = (node, cls)


def _split(node: cst.Call, method: str | None, ctx: Context) -> None:
    if ctx.is_test:
        return
    scope = _scope(ctx)
    if method == "split":
        receiver = node.func.value
        known = (
            isinstance(receiver, cst.Name) and receiver.value in scope["splitters"]
        ) or _is_splitter(receiver, ctx)
        if not known:
            return
        start, what = 0, f"`{dotted(node.func) or 'split'}()` then splits it"
    else:
        name = ctx.call_name(node)
        if name not in _SPLIT_FUNCTIONS:
            return
        start = _SPLIT_FUNCTIONS[name]
        short = name.rsplit(".", 1)[-1]
        verb = "splits" if short == "train_test_split" else "cross-validates on"
        what = f"`{short}` then {verb} it"
    positional = [a for a in node.args if a.keyword is None and not a.star]
    data = positional[start:] if start == 0 else positional[start : start + 1]
    extra = keyword(node, "X")
    if extra is not None:
        data.append(extra)
    tainted = scope["tainted"]
    for arg in data:
        value = arg.value
        if isinstance(value, cst.Call) and method_name(value) == "fit_transform":
            cls = _transformer(value.func.value, ctx)
            if cls is None and isinstance(value.func.value, cst.Name):
                cls = scope["transformers"].get(value.func.value.value)
            if cls is not None:
                _report(value, cls, what.replace(" it", " its output"), ctx)
                return
        root = _data_root(value)
        if root is not None and root in tainted:
            fit, cls = tainted[root]
            _report(fit, cls, f"it is fitted on `{root}`, and {what}", ctx)
            return
