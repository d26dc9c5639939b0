"""
What it does
------------
Flags an assignment (``=`` or an augmented ``+=``...) whose target indexes a pandas object twice
in a row: ``df["a"][mask] = v``, ``df[mask]["a"] = v``, ``df.loc[i]["a"] = v``,
``df.iloc[0][1] = v`` or ``df["a"].iloc[0] = v``.

Two subscripts in a row are also how nested dictionaries and lists are written, so the rule
only reports when the file imports pandas and something shows the object is a DataFrame or
Series:

- the first subscript is ``.loc[...]`` or ``.iloc[...]``, or selects rows with a boolean mask
  (``df[df["age"] > 30]``, ``df[~df["id"].isin(ids)]``); either always builds a new object;
- or the indexed name was bound, earlier in the file, to a pandas constructor or reader
  (``pd.read_csv``, ``pd.DataFrame``, ``pd.concat`` ...), to a frame method of such a name
  (``df.copy()``, ``df.dropna()`` ...), or is a parameter annotated ``pd.DataFrame`` or
  ``pd.Series``.

``cfg["model"]["lr"] = 0.1`` on a dictionary is therefore left alone.

When the target has the form ``df["col"][mask]`` or ``df[mask]["col"]`` with a visible boolean
mask, the finding offers ``df.loc[mask, "col"] = v`` as a suggestion.

Why is this bad?
----------------
The first subscript may return a copy instead of a view of the frame, and the second one then
writes into that temporary copy: the frame is not changed and nothing fails. Whether it is a
copy depends on the dtypes, on the memory layout and on the pandas version. Older pandas warns
with ``SettingWithCopyWarning``, which is often silenced; under Copy-on-Write (the default
from pandas 3.0) chained assignment never updates the frame. A cleaning step that "fills"
outliers this way does nothing, and the model trains on the raw values.

Example
-------
.. code-block:: python

    df = pd.read_csv("loans.csv")
    df["income"][df["income"] < 0] = 0
    df[df["country"] == "NL"]["currency"] = "EUR"

Use instead
-----------
Index once, with rows and columns in the same ``.loc`` (or ``.iloc``):

.. code-block:: python

    df = pd.read_csv("loans.csv")
    df.loc[df["income"] < 0, "income"] = 0
    df.loc[df["country"] == "NL", "currency"] = "EUR"

References
----------
- pandas user guide, "Indexing and selecting data: returning a view versus a copy" and
  "Copy-on-Write (CoW)": chained assignment never works under CoW
- Zhang et al., "Code Smells for Machine Learning Applications": Chain Indexing
- dslinter ``chain-indexing-pandas``; ruff ``PD`` rules have no equivalent (``PD008``/``PD009``
  concern ``.at``/``.iat``)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, method_name, string_value

RULE = Rule(
    code="DEBT305",
    name="chained-indexing-assignment",
    principle="cutting-corners",
    severity="warning",
    message="Assign through one indexer, `{fix}`, instead of chained indexing, which may write into a temporary copy and leave `{root}` unchanged.",
    valid=(
        # Near miss: nested dictionaries use the same syntax.
        """
import pandas as pd

cfg = load_config()
cfg["model"]["lr"] = 0.1
df = pd.read_csv("train.csv")
""",
        # Near miss: a dictionary copy; `.copy()` alone does not make a DataFrame.
        """
import pandas as pd

params = DEFAULTS.copy()
params["optimizer"]["momentum"] = 0.9
""",
        # Near miss: a dictionary of arrays, masked in place with a single subscript on the array.
        """
import pandas as pd
import numpy as np

batch = {"x": np.zeros(10), "y": np.ones(10)}
batch["x"][batch["y"] > 0] = 1.0
""",
        """
import pandas as pd

df = pd.read_csv("loans.csv")
df.loc[df["income"] < 0, "income"] = 0
df.iloc[0, 1] = 42
""",
        # Near miss: no pandas in the file at all.
        """
grid = [[0] * 3 for _ in range(3)]
grid[1][2] = 5
""",
    ),
    invalid=(
        Example(
            """
import pandas as pd

df = pd.read_csv("loans.csv")
df["income"][df["income"] < 0] = 0
""",
            line=4,
            replacement='df.loc[df["income"] < 0, "income"] = 0',
        ),
        Example(
            """
import pandas as pd

def clean(frame):
    frame[frame["country"] == "NL"]["currency"] = "EUR"  # fix currency
    return frame
""",
            line=4,
            replacement='    frame.loc[frame["country"] == "NL", "currency"] = "EUR"  # fix currency',
        ),
        Example(
            """
import pandas as pd

def label(df: pd.DataFrame, i: int) -> None:
    df.loc[i]["label"] = 1
""",
            line=4,
        ),
        Example(
            """
import pandas as pd

train = pd.read_parquet("train.parquet").dropna()
train["age"].iloc[0] = 30
train["clicks"][train["clicks"] > 100] += 1
""",
            line=4,
        ),
    ),
)

_INDEXERS = frozenset({"loc", "iloc"})
_ANY_INDEXER = frozenset({"loc", "iloc", "at", "iat"})
_MASK_METHODS = frozenset(
    {
        "isna", "isnull", "notna", "notnull", "isin", "between", "duplicated", "contains",
        "startswith", "endswith", "eq", "ne", "lt", "gt", "le", "ge", "any", "all",
    }
)  # fmt: skip
_PANDAS_MAKERS = frozenset(
    {
        "DataFrame", "Series", "concat", "merge", "merge_asof", "merge_ordered", "get_dummies",
        "pivot_table", "crosstab", "json_normalize", "melt",
    }
)  # fmt: skip
_FRAME_METHODS = frozenset(
    {
        "copy", "drop", "dropna", "fillna", "merge", "join", "assign", "reset_index",
        "set_index", "sort_values", "sort_index", "query", "rename", "astype", "head", "tail",
        "sample", "drop_duplicates", "filter", "replace", "reindex", "pivot", "pivot_table",
        "melt", "select_dtypes", "ffill", "bfill", "interpolate", "round", "clip",
    }
)  # fmt: skip
_PANDAS_TYPES = frozenset({"pandas.DataFrame", "pandas.Series"})


@dataclass
class State:
    """Which names hold pandas objects, and whether the file uses pandas at all."""

    # Decided when a chained assignment first asks: most files never need to.
    pandas: bool | None = None
    # A stack of scopes, the module's first: name -> holds a DataFrame or Series.
    scopes: list[dict[str, bool]] = field(default_factory=lambda: [{}])
    # The same for attributes (``self.df``), whatever the scope.
    attributes: dict[str, bool] = field(default_factory=dict)


def _uses_pandas(ctx: Context[State]) -> bool:
    if ctx.state.pandas is None:
        ctx.state.pandas = any(t.split(".", 1)[0] == "pandas" for t in ctx.aliases.values()) or (
            "import pandas" in ctx.text or "from pandas" in ctx.text
        )
    return ctx.state.pandas


def _is_mask(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Comparison):
        return True
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
        return True
    if isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, cst.BitAnd | cst.BitOr | cst.BitXor
    ):
        return _is_mask(node.left) or _is_mask(node.right)
    if isinstance(node, cst.Call):
        return method_name(node) in _MASK_METHODS
    return False


def _single_index(subscript: cst.Subscript) -> cst.BaseExpression | None:
    """The index of ``x[index]`` when it is one plain expression (no slice, no tuple)."""
    if len(subscript.slice) != 1:
        return None
    element = subscript.slice[0].slice
    return element.value if isinstance(element, cst.Index) else None


def _is_frame_name(key: str, ctx: Context[State]) -> bool:
    if "." in key:
        return ctx.state.attributes.get(key, False)
    for scope in reversed(ctx.state.scopes):
        if key in scope:
            return scope[key]
    return False


def _bind(key: str, is_frame: bool, ctx: Context[State]) -> None:
    if "." in key:
        ctx.state.attributes[key] = is_frame
    else:
        ctx.state.scopes[-1][key] = is_frame


def _frame_value(value: cst.BaseExpression, ctx: Context) -> bool:
    """Whether an assigned value is evidently a pandas DataFrame or Series."""
    if isinstance(value, cst.Call):
        name = ctx.call_name(value) or ""
        if name.startswith("pandas."):
            last = name.rsplit(".", 1)[-1]
            return last in _PANDAS_MAKERS or last.startswith("read_")
        method = method_name(value)
        if method in _FRAME_METHODS:
            receiver = value.func.value
            return (
                _frame_expr(receiver, ctx)
                or _frame_value(receiver, ctx)
                or (method == "copy" and isinstance(receiver, cst.Subscript) and _masked(receiver))
            )
        return False
    if isinstance(value, cst.Subscript):
        return _frame_expr(value, ctx)
    return False


def _masked(subscript: cst.Subscript) -> bool:
    index = _single_index(subscript)
    return index is not None and _is_mask(index)


def _frame_expr(expr: cst.BaseExpression, ctx: Context) -> bool:
    """A known frame name, or a subscript / .loc of one."""
    while True:
        if isinstance(expr, cst.Subscript):
            if _masked(expr):
                return True
            expr = expr.value
        elif isinstance(expr, cst.Attribute) and expr.attr.value in _INDEXERS:
            return True
        else:
            break
    key = dotted(expr)
    return key is not None and _is_frame_name(key, ctx)


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    scope: dict[str, bool] = {}
    params = node.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        annotation = param.annotation
        scope[param.name.value] = annotation is not None and _annotated_frame(
            annotation.annotation, ctx
        )
    ctx.state.scopes.append(scope)


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.scopes.pop()


def _annotated_frame(annotation: cst.BaseExpression, ctx: Context) -> bool:
    if isinstance(annotation, cst.BinaryOperation):  # pd.DataFrame | None
        return _annotated_frame(annotation.left, ctx) or _annotated_frame(annotation.right, ctx)
    if isinstance(annotation, cst.Subscript):  # Optional[pd.DataFrame]
        return any(
            isinstance(e.slice, cst.Index) and _annotated_frame(e.slice.value, ctx)
            for e in annotation.slice
        )
    if isinstance(annotation, cst.SimpleString):
        text = string_value(annotation) or ""
        return text.endswith(("DataFrame", "Series"))
    return ctx.qualified_name(annotation) in _PANDAS_TYPES


def _chain(target: cst.BaseExpression, ctx: Context) -> tuple[cst.BaseExpression, bool] | None:
    """``(root, evidence)`` when the target is a chained indexing, else None."""
    if not isinstance(target, cst.Subscript):
        return None
    inner = target.value
    if isinstance(inner, cst.Attribute) and inner.attr.value in _ANY_INDEXER:
        # df["a"].iloc[0] = v / df[mask].loc[:, "a"] = v
        first = inner.value
        if not isinstance(first, cst.Subscript):
            return None
        root = first.value
        if isinstance(root, cst.Attribute) and root.attr.value in _ANY_INDEXER:
            return root.value, True  # df.loc[m].iloc[0] = v
        return root, _masked(first)
    if not isinstance(inner, cst.Subscript):
        return None
    root = inner.value
    if isinstance(root, cst.Attribute) and root.attr.value in _INDEXERS:
        return root.value, True  # df.loc[i]["a"] = v / df.iloc[0][1] = v
    if isinstance(root, cst.Attribute | cst.Name):
        return root, _masked(inner)
    return None


def _check_target(target: cst.BaseExpression, statement: cst.CSTNode, ctx: Context) -> bool:
    found = _chain(target, ctx)
    if found is None:
        return False
    root, evidence = found
    key = dotted(root)
    if not evidence and not (key is not None and _is_frame_name(key, ctx)):
        return False
    if not _uses_pandas(ctx):
        return False
    root_code = ctx.code(root)
    fix, replacement = _fix(target, root_code, statement, ctx)
    if replacement is not None:
        ctx.report(ctx.parent(1), fix=fix, root=root_code, replacement=replacement)
    else:
        ctx.report(target, fix=fix, root=root_code)
    return True


def _fix(
    target: cst.Subscript, root: str, statement: cst.CSTNode, ctx: Context
) -> tuple[str, str | None]:
    """The single-indexer spelling, and the replacement line when it is exact."""
    generic = f"{root}.loc[rows, columns]"
    inner = target.value
    if not isinstance(inner, cst.Subscript) or not isinstance(
        inner.value, cst.Name | cst.Attribute
    ):
        return generic, None
    first, second = _single_index(inner), _single_index(target)
    if first is None or second is None:
        return generic, None
    if _is_mask(second) and not _is_mask(first) and _column_like(first):
        mask, column = second, first  # df["a"][mask]
    elif _is_mask(first) and not _is_mask(second) and _column_like(second):
        mask, column = first, second  # df[mask]["a"]
    else:
        return generic, None
    fix = f"{root}.loc[{ctx.code(mask)}, {ctx.code(column)}]"
    return fix, _replacement(fix, statement, ctx)


def _column_like(node: cst.BaseExpression) -> bool:
    return string_value(node) is not None or isinstance(node, cst.Name)


def _replacement(fix: str, statement: cst.CSTNode, ctx: Context) -> str | None:
    line = ctx.parent(1)
    assign = statement
    if (
        not isinstance(assign, cst.Assign)
        or len(assign.targets) != 1
        or not isinstance(line, cst.SimpleStatementLine)
        or len(line.body) != 1
    ):
        return None
    value = ctx.code(assign.value)
    if "\n" in value or "\n" in fix:
        return None
    trailing = line.trailing_whitespace
    tail = trailing.whitespace.value + (trailing.comment.value if trailing.comment else "")
    return f"{ctx.indentation()}{fix} = {value}{tail}"


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    for item in node.targets:
        target = item.target
        if isinstance(target, cst.Subscript) and _check_target(target, node, ctx):
            return
    is_frame = _frame_value(node.value, ctx)
    for item in node.targets:
        key = dotted(item.target)
        if key is not None:
            _bind(key, is_frame, ctx)


def visit_AugAssign(node: cst.AugAssign, ctx: Context) -> None:
    if isinstance(node.target, cst.Subscript):
        _check_target(node.target, node, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    key = dotted(node.target)
    if key is None:
        return
    is_frame = _annotated_frame(node.annotation.annotation, ctx) or (
        node.value is not None and _frame_value(node.value, ctx)
    )
    _bind(key, is_frame, ctx)
