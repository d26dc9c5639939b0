"""
What it does
------------
Flags a function that writes into a DataFrame or array it received as an argument, before
rebinding that name: ``df["col"] = ...``, ``df.loc[...] = ...``, ``X[:, 0] = ...``,
``df["n"] += 1``, ``X -= mean``, ``del df["col"]`` or ``df.insert(...)``. Only the first such
write per parameter is reported. ``df.method(..., inplace=True)`` on a parameter is left to
DEBT501 (pandas-inplace), which reports it with a suggested fix.

A parameter counts as a DataFrame or array when it is annotated as one (``pd.DataFrame``,
``pd.Series``, ``np.ndarray``, ``npt.NDArray``, also inside ``Optional``/``| None``), or is named
like one (``df``, ``*_df``, ``df_*``, ``X``, ``X_*``). Any other parameter (``data``, ``frame``,
``train`` ...) only counts when the write itself is pandas-specific (``.loc``, ``.iloc``, ``.at``
or ``.iat``), so ``data["key"] = value`` on a plain dictionary is left alone.

Skipped: test files; private helpers (``_encode(self, X)``), which typically work on the copy
their public caller already made; functions that announce the mutation (a name containing
``inplace``, a trailing underscore as in ``normalize_``, or a docstring saying "in place" or
"modifies"). Any rebinding of the name (``df = df.copy()``, even inside an ``if``) ends the
check for that parameter.

Why is this bad?
----------------
The caller's frame changes behind its back. A feature function called on ``train`` adds columns
to the caller's ``train``; called twice (once for a report, once for the model), it adds them
twice or rescales already scaled values. Which columns a frame holds then depends on the order in
which unrelated functions ran, so moving or reusing one step silently changes the input of every
later step: the entanglement behind "changing anything changes everything".

Example
-------
.. code-block:: python

    def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
        df["debt_ratio"] = df["debt"] / df["income"]
        return df

Use instead
-----------
Work on a copy, or return new columns with ``assign``:

.. code-block:: python

    def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(debt_ratio=df["debt"] / df["income"])

References
----------
- pandas user guide, "Copy-on-Write (CoW)" and ``DataFrame.assign``
- scikit-learn developer guide: estimators must not modify the data passed to ``fit`` and
  ``transform`` (``copy=True`` parameters, ``check_array``)
- pylint has no equivalent; dslinter ``inplace-pandas`` checks the opposite case
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword, method_name, string_value

RULE = Rule(
    code="DEBT502",
    name="mutated-dataframe-argument",
    principle="changing-anything",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 2 findings judged right on held-out repositories (issue 11), below 80%",
    message="Copy `{name}` before writing into it, because the write also changes the data the caller passed in.",
    valid=(
        # Near miss: the argument is copied first.
        """
def add_ratios(df):
    df = df.copy()
    df["debt_ratio"] = df["debt"] / df["income"]
    return df
""",
        # Near miss: a local DataFrame is built and filled.
        """
import pandas as pd

def summarize(rows):
    out = pd.DataFrame(rows)
    out["total"] = out["a"] + out["b"]
    return out
""",
        # Near miss: state of the object itself, not of an argument.
        """
class Scaler:
    def fit(self, X):
        self.mean_ = X.mean(axis=0)
        self.stats["n"] = len(X)
        return self
""",
        # Near miss: `data` is a plain dict here.
        """
def collate(data, key):
    data["input_ids"] = pad(data["input_ids"])
    return data
""",
        # Near miss: the function says it works in place.
        """
def normalize_inplace(X):
    X -= X.mean(axis=0)
""",
        """
def fill_missing(df):
    \"\"\"Fill gaps in ``df`` in place.\"\"\"
    df.loc[df["age"].isna(), "age"] = 0
""",
        # Near miss: a private helper, called on the copy its public caller made.
        """
class Encoder:
    def transform(self, X):
        X = X.copy()
        return self._encode(X)

    def _encode(self, X):
        for col, mapping in self.mappings_.items():
            X[col] = X[col].map(mapping)
        return X
""",
        # Near miss: `inplace=True` on an argument is DEBT501's finding, not repeated here.
        """
def prepare(features_df, target):
    features_df.drop(columns=[target], inplace=True)
    features_df["ratio"] = features_df["a"] / features_df["b"]
    return features_df
""",
    ),
    invalid=(
        Example(
            """
import pandas as pd

def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    df["debt_ratio"] = df["debt"] / df["income"]
    df["age_bucket"] = df["age"] // 10
    return df
""",
            line=4,
        ),
        Example(
            """
def clip_outliers(train, cols):
    for col in cols:
        train.loc[train[col] > 100, col] = 100
    return train
""",
            line=3,
        ),
        Example(
            """
import numpy as np

class Imputer:
    def transform(self, X):
        X[np.isnan(X)] = self.fill_value_
        return X
""",
            line=5,
        ),
        Example(
            """
def fit_scaler(train_df, cols):
    for col in cols:
        train_df[col] = (train_df[col] - train_df[col].mean()) / train_df[col].std()
""",
            line=3,
        ),
        Example(
            """
import numpy as np

def center(features: np.ndarray) -> np.ndarray:
    features -= features.mean(axis=0)
    return features
""",
            line=4,
        ),
    ),
)

_TYPES = frozenset(
    {
        "pandas.DataFrame", "pandas.Series", "pandas.core.frame.DataFrame",
        "pandas.core.series.Series", "numpy.ndarray", "numpy.typing.NDArray",
        "numpy.typing.ArrayLike", "DataFrame", "Series", "ndarray", "NDArray",
        "pd.DataFrame", "pd.Series", "np.ndarray", "npt.NDArray",
    }
)  # fmt: skip
_INDEXERS = frozenset({"loc", "iloc", "at", "iat"})
_PANDAS_INPLACE = frozenset(
    {
        "fillna", "ffill", "bfill", "dropna", "drop", "drop_duplicates", "rename",
        "rename_axis", "replace", "reset_index", "set_index", "sort_values", "sort_index",
        "where", "mask", "clip", "interpolate", "query", "eval", "set_axis",
    }
)  # fmt: skip
_MARKERS = ("in place", "in-place", "inplace", "modif", "mutat")


@dataclass
class State:
    """The parameters of each function being walked that still hold the caller's data."""

    # One entry per function being walked: parameter name -> whether its type or name says it
    # is a DataFrame or an array.
    stack: list[dict[str, bool]] = field(default_factory=list)


def _strong_name(name: str) -> bool:
    return (
        name == "df"
        or name.endswith("_df")
        or name.startswith("df_")
        or name == "X"
        or name.startswith("X_")
    )


def _is_frame_type(annotation: cst.BaseExpression, ctx: Context) -> bool:
    text = string_value(annotation)
    if text is not None:
        return text.strip() in _TYPES
    if isinstance(annotation, cst.BinaryOperation):
        return _is_frame_type(annotation.left, ctx) or _is_frame_type(annotation.right, ctx)
    if isinstance(annotation, cst.Subscript):
        base = ctx.qualified_name(annotation.value) or ""
        if base.rsplit(".", 1)[-1] in {"Optional", "Union"}:
            return any(
                isinstance(e.slice, cst.Index) and _is_frame_type(e.slice.value, ctx)
                for e in annotation.slice
            )
        annotation = annotation.value  # NDArray[np.float64]
    return ctx.qualified_name(annotation) in _TYPES


def _skipped(node: cst.FunctionDef) -> bool:
    """Private helpers, and functions that announce the mutation in their name or docstring."""
    name = node.name.value.lower()
    if name.startswith("_") and not name.endswith("__"):
        return True
    if "inplace" in name or "in_place" in name or (name.endswith("_") and not name.endswith("__")):
        return True
    doc = node.get_docstring(clean=False)
    return doc is not None and any(m in doc.lower() for m in _MARKERS)


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    stack = ctx.state.stack
    tracked: dict[str, bool] = {}
    if not ctx.is_test and not _skipped(node):
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            name = param.name.value
            if name in {"self", "cls"}:
                continue
            typed = param.annotation is not None and _is_frame_type(
                param.annotation.annotation, ctx
            )
            tracked[name] = typed or _strong_name(name)
    stack.append(tracked)


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.stack.pop()


def _tracked(ctx: Context[State]) -> dict[str, bool] | None:
    stack = ctx.state.stack
    return stack[-1] if stack and stack[-1] else None


def _mutated_param(target: cst.BaseExpression, tracked: dict[str, bool]) -> str | None:
    """The tracked parameter an item-assignment target writes into, if any."""
    if not isinstance(target, cst.Subscript):
        return None
    base = target.value
    if isinstance(base, cst.Name):
        return base.value if tracked.get(base.value) else None
    if (
        isinstance(base, cst.Attribute)
        and base.attr.value in _INDEXERS
        and isinstance(base.value, cst.Name)
        and base.value.value in tracked
    ):
        return base.value.value
    return None


def _rebind(target: cst.CSTNode, tracked: dict[str, bool]) -> None:
    if isinstance(target, cst.Name):
        tracked.pop(target.value, None)
    elif isinstance(target, cst.Tuple | cst.List):
        for element in target.elements:
            _rebind(element.value, tracked)
    elif isinstance(target, cst.StarredElement):
        _rebind(target.value, tracked)


def _report(node: cst.CSTNode, name: str, tracked: dict[str, bool], ctx: Context) -> None:
    del tracked[name]
    ctx.report(node, name=name)


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is None:
        return
    for target in node.targets:
        name = _mutated_param(target.target, tracked)
        if name is not None:
            _report(target.target, name, tracked, ctx)
        else:
            _rebind(target.target, tracked)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is not None and node.value is not None:
        _rebind(node.target, tracked)


def visit_AugAssign(node: cst.AugAssign, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is None:
        return
    target = node.target
    name = _mutated_param(target, tracked)
    if name is None and isinstance(target, cst.Name) and tracked.get(target.value):
        name = target.value  # `X -= mean` writes into the caller's array
    if name is not None:
        _report(target, name, tracked, ctx)
    else:
        _rebind(target, tracked)


def visit_Del(node: cst.Del, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is None:
        return
    targets = node.target.elements if isinstance(node.target, cst.Tuple) else [node.target]
    for target in targets:
        expr = target.value if isinstance(target, cst.Element) else target
        name = _mutated_param(expr, tracked)
        if name is not None:
            _report(expr, name, tracked, ctx)
            return


def visit_For(node: cst.For, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is not None:
        _rebind(node.target, tracked)


def visit_AsName(node: cst.AsName, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is not None:
        _rebind(node.name, tracked)


def visit_NamedExpr(node: cst.NamedExpr, ctx: Context) -> None:
    tracked = _tracked(ctx)
    if tracked is not None:
        _rebind(node.target, tracked)


def visit_Call(node: cst.Call, ctx: Context) -> None:
    method = method_name(node)
    if method is None:
        return
    tracked = _tracked(ctx)
    if tracked is None:
        return
    receiver = node.func.value
    if not isinstance(receiver, cst.Name) or receiver.value not in tracked:
        return
    name = receiver.value
    inplace = keyword(node, "inplace")
    if (
        inplace is not None
        and isinstance(inplace.value, cst.Name)
        and inplace.value.value == "True"
        and (tracked[name] or method in _PANDAS_INPLACE)
    ):
        # DEBT501 (pandas-inplace) already comments on this line, with a suggested fix; one
        # comment per line is enough, and later writes are no news to the caller either.
        del tracked[name]
    elif method == "insert" and tracked[name] and len(node.args) >= 3:
        _report(node, name, tracked, ctx)  # DataFrame.insert(loc, column, value)
