"""
What it does
------------
Flags ``inplace=True`` passed to a pandas method such as ``fillna``, ``dropna``, ``drop``,
``rename``, ``replace``, ``set_index`` or ``sort_values``.

Only methods that pandas defines with an ``inplace`` keyword are matched, and calls whose
receiver is imported from another library (``torch``, ``tensorflow``, ``keras``, ``pyvista`` ...)
are left alone, so ``nn.ReLU(inplace=True)`` and ``F.relu(x, inplace=True)`` are never reported.
Test files are skipped.

Why is this bad?
----------------
An in-place call changes the object for every name that refers to it: the caller's frame, a
cached copy, the frame another feature function is still reading. One cleaning step then silently
changes the input of every later step, which is the entanglement the "changing anything changes
everything" principle warns about. The call also returns ``None``, so it cannot be chained, and
on a column taken from a frame (``df["age"].fillna(0, inplace=True)``) it may not update the
frame at all under pandas' Copy-on-Write. For reshaping methods (``dropna``, ``drop``,
``sort_values`` ...) pandas copies the data anyway, so ``inplace=True`` saves nothing; the pandas
team has accepted a proposal (PDEP-8) to remove the keyword from those methods.

When the call is a whole statement on a plain variable or attribute, the finding offers the
equivalent reassignment as a suggestion.

Example
-------
.. code-block:: python

    def clean(df):
        df.dropna(subset=["label"], inplace=True)
        df["age"].fillna(df["age"].median(), inplace=True)
        return df

Use instead
-----------
.. code-block:: python

    def clean(df):
        df = df.dropna(subset=["label"])
        df["age"] = df["age"].fillna(df["age"].median())
        return df

References
----------
- ruff ``PD002`` (pandas-use-of-inplace-argument), from pandas-vet
- pandas PDEP-8, "In-place methods in pandas":
  https://pandas.pydata.org/pdeps/0008-inplace-methods-in-pandas.html
- pandas user guide, "Copy-on-Write (CoW)"
- Zhang et al., "Code Smells for Machine Learning Applications": in-place APIs misused
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, keyword, method_name

RULE = Rule(
    code="DEBT501",
    name="pandas-inplace",
    principle="changing-anything",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 2 findings judged right on held-out repositories (issue 11), below 80%",
    message="Assign the result of `{method}()` instead of passing `inplace=True`, which changes the object for every other reference to it.",
    valid=(
        # Near miss: torch activations take `inplace=True` too.
        """
import torch.nn as nn
import torch.nn.functional as F

act = nn.ReLU(inplace=True)
y = F.relu(x, inplace=True)
""",
        # Near miss: a method name pandas shares, called on a torch tensor.
        """
import torch

scores = torch.rand(10)
clipped = torch.clip(scores, 0, 1)
""",
        "df = df.dropna(subset=['label'])\ndf = df.sort_values('ts')",
        # Near miss: a wrapper forwarding the caller's choice.
        """
def drop_empty(df, inplace=False):
    return df.dropna(how="all", inplace=inplace)
""",
        # Near miss: a test building its own fixture.
        Example(
            "def test_clean():\n    df = make_frame()\n    df.dropna(inplace=True)\n",
            path="tests/test_clean.py",
        ),
    ),
    invalid=(
        Example(
            """
import pandas as pd

df = pd.read_csv("train.csv")
df.dropna(subset=["label"], inplace=True)
""",
            line=4,
            replacement='df = df.dropna(subset=["label"])',
        ),
        Example(
            """
def load(self):
    for col in self.cat_cols:
        self.df[col].fillna("missing", inplace=True)
    self.df.reset_index(drop=True, inplace=True)  # keep order
""",
            line=3,
        ),
        Example(
            """
def prepare(frame):
    frame.rename(columns=str.lower, inplace=True)
    return frame
""",
            replacement="    frame = frame.rename(columns=str.lower)",
        ),
        Example(
            """
def prepare():
    data.sort_values("ts", inplace=True)
""",
            # `data` is a module global here: no suggestion, reassigning would make it local.
            line=2,
        ),
    ),
)

# Methods of DataFrame, Series, Index and Categorical that take `inplace`.
_PANDAS_INPLACE = frozenset(
    {
        "fillna", "ffill", "bfill", "backfill", "pad", "dropna", "drop", "drop_duplicates",
        "rename", "rename_axis", "replace", "reset_index", "set_index", "sort_values",
        "sort_index", "where", "mask", "clip", "interpolate", "query", "eval", "set_axis",
        "set_names", "set_levels", "set_codes", "rename_categories", "reorder_categories",
        "add_categories", "remove_categories", "remove_unused_categories", "set_categories",
        "as_ordered", "as_unordered",
    }
)  # fmt: skip
# Libraries whose objects have methods of the same names with an `inplace` keyword.
_OTHER_LIBRARIES = frozenset(
    {"torch", "tensorflow", "keras", "jax", "pyvista", "vtk", "open3d", "trimesh", "mne"}
)
_PANDAS_LIKE = frozenset({"pandas", "geopandas", "modin", "dask", "pyspark", "databricks"})


@dataclass
class State:
    """Whether the file imports a 3D library whose methods take ``inplace``, and no pandas."""

    # Decided when an ``inplace=True`` call first asks, from the imports seen by then.
    other_only: bool | None = None


def _is_true(arg: cst.Arg | None) -> bool:
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "True"


def _root_module(expr: cst.BaseExpression, ctx: Context) -> str | None:
    """The top-level package an expression's leftmost name was imported from, if imported."""
    while isinstance(expr, cst.Attribute | cst.Subscript | cst.Call):
        expr = expr.value if not isinstance(expr, cst.Call) else expr.func
    if not isinstance(expr, cst.Name):
        return None
    target = ctx.aliases.get(expr.value)
    return target.lstrip(".").split(".", 1)[0] if target else None


def _file_imports_only_other_libraries(ctx: Context[State]) -> bool:
    if ctx.state.other_only is None:
        roots = {t.lstrip(".").split(".", 1)[0] for t in ctx.aliases.values()}
        ctx.state.other_only = bool(roots & {"pyvista", "vtk", "open3d", "trimesh"}) and not (
            roots & _PANDAS_LIKE
        )
    return ctx.state.other_only


def visit_Call(node: cst.Call, ctx: Context) -> None:
    method = method_name(node)
    if method not in _PANDAS_INPLACE:
        return
    inplace = keyword(node, "inplace")
    if not _is_true(inplace) or ctx.is_test:
        return
    receiver = node.func.value
    if _root_module(receiver, ctx) in _OTHER_LIBRARIES or _file_imports_only_other_libraries(ctx):
        return
    statement = _whole_statement(node, ctx)
    if statement is None:
        ctx.report(node, method=f".{method}")
        return
    ctx.report(statement, method=f".{method}", replacement=_replacement(statement, node, ctx))


def _whole_statement(call: cst.Call, ctx: Context) -> cst.SimpleStatementLine | None:
    """The statement line when the call is its only content (`df.dropna(inplace=True)`)."""
    expr, line = ctx.parent(), ctx.parent(2)
    if (
        isinstance(expr, cst.Expr)
        and expr.value is call
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
    ):
        return line
    return None


def _replacement(line: cst.SimpleStatementLine, call: cst.Call, ctx: Context) -> str | None:
    receiver = call.func.value
    target = dotted(receiver)
    if target is None or target.split(".", 1)[0] in ctx.aliases:
        return None  # `df["a"].fillna(...)` or a module: no plain reassignment
    if "." not in target and not _bound_in_function(target, ctx):
        return None  # `df = ...` would turn a global or closure variable into a local
    if "\n" in ctx.code(call):
        return None  # keep suggestions to single lines
    args = [a for a in call.args if not (a.keyword is not None and a.keyword.value == "inplace")]
    if args:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new_call = ctx.code(call.with_changes(args=args))
    trailing = line.trailing_whitespace
    tail = trailing.whitespace.value + (trailing.comment.value if trailing.comment else "")
    return f"{ctx.indentation()}{target} = {new_call}{tail}"


def _bound_in_function(name: str, ctx: Context) -> bool:
    function = ctx.enclosing(cst.FunctionDef)
    if function is None:
        return ctx.enclosing(cst.ClassDef) is None
    params = function.params
    every = (*params.posonly_params, *params.params, *params.kwonly_params)
    extra = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    if any(p.name.value == name for p in (*every, *extra)):
        return True
    return _binds(function.body, name)


def _binds(node: cst.CSTNode, name: str) -> bool:
    """Whether ``name`` is assigned (or declared global/nonlocal) in this function body."""
    pending = list(node.children)
    while pending:
        current = pending.pop()
        if isinstance(current, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if isinstance(current, cst.Global | cst.Nonlocal) and any(
            n.name.value == name for n in current.names
        ):
            return True
        targets: list[cst.CSTNode] = []
        if isinstance(current, cst.Assign):
            targets = [t.target for t in current.targets]
        elif isinstance(current, cst.AnnAssign | cst.AugAssign | cst.For):
            targets = [current.target]
        elif isinstance(current, cst.AsName):
            targets = [current.name]
        for target in targets:
            if _names_bound(target, name):
                return True
        pending.extend(current.children)
    return False


def _names_bound(target: cst.CSTNode, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, cst.Tuple | cst.List):
        return any(_names_bound(e.value, name) for e in target.elements)
    if isinstance(target, cst.StarredElement):
        return _names_bound(target.value, name)
    return False
