"""
What it does
------------
Flags a statement that calls a pandas-style method returning a new object and throws the result
away: ``df.dropna()``, ``df.fillna(0)``, ``df.drop(columns=["id"])``, ``frame.sort_values("t")``,
``series.astype(int)`` standing alone on a line, without ``inplace=True``.

Calls on imported modules (``os.replace(a, b)``, ``np.clip(...)`` is left to its own rule) and
``rename`` without ``columns=``/``index=``/``mapper=`` (``pathlib.Path.rename`` moves a file) are
not flagged.

Why is this bad?
----------------
These methods do not change the object they are called on; they return a changed copy. A lone
``df.dropna()`` therefore does nothing at all, and the missing rows, unfilled gaps or wrong types
flow on into the features. The code reads as if the data were cleaned, which makes the bug hard
to see in review and harder to find later from a metric.

Example
-------
.. code-block:: python

    frame.dropna(subset=["age"])
    frame.fillna({"income": 0})
    model.fit(frame[FEATURES], frame["label"])

Use instead
-----------
.. code-block:: python

    frame = frame.dropna(subset=["age"]).fillna({"income": 0})
    model.fit(frame[FEATURES], frame["label"])

References
----------
- Zhang et al., "Code Smells for Machine Learning Applications": In-Place APIs Misused.
- dslinter ``inplace-pandas`` and ``inplace-numpy``; pandas user guide on copies and views.
"""

from __future__ import annotations

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword

RULE = Rule(
    code="DEBT311",
    name="discarded-result",
    principle="cutting-corners",
    severity="error",
    message="Assign the result of `{call}`: the method returns a new object and leaves `{target}` unchanged.",
    valid=(
        "frame = frame.dropna(subset=['age'])",
        # Near misses: in place on purpose (another rule's business), a module function with a
        # side effect, and a file rename.
        "frame.dropna(inplace=True)",
        "import os\nos.replace('tmp.csv', 'data.csv')",
        "from pathlib import Path\nPath('a.csv').rename('b.csv')",
        "print(frame.fillna(0))",
        # Near misses: methods of the class itself, and a model's own set_index(data).
        "class Frame:\n    def tidy(self):\n        self.dropna()",
        "model.set_index(ratings)",
        # Near miss: a temporary looked at in a console, which nobody expects to change.
        "train_df.groupby(['day']).size().reset_index(name='n')",
    ),
    invalid=(
        Example("frame.dropna(subset=['age'])\nmodel.fit(frame, y)", line=1),
        Example("def clean(frame):\n    frame.fillna({'income': 0})\n    return frame\n", line=2),
        "series.astype(int)",
        "frame.rename(columns={'a': 'b'})",
        "frame.set_index('day')",
    ),
)

_RETURNS_COPY = frozenset(
    {"dropna", "fillna", "drop", "drop_duplicates", "reset_index", "set_index", "sort_values",
     "sort_index", "astype", "reindex", "ffill", "bfill", "interpolate", "replace", "clip",
     "rename"}
)  # fmt: skip
_RENAME_KEYWORDS = ("columns", "index", "mapper")


def _names_columns(call: cst.Call) -> bool:
    """``set_index("day")`` or ``set_index(["a", "b"])``: column labels, as pandas takes them."""
    first = call.args[0].value if call.args else None
    return isinstance(first, cst.SimpleString | cst.List) or keyword(call, "keys") is not None


def visit_Expr(node: cst.Expr, ctx: Context) -> None:
    call = node.value
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return
    method = call.func.attr.value
    if method not in _RETURNS_COPY or ctx.is_test:
        return
    receiver = call.func.value
    if keyword(call, "inplace") is not None:
        return
    if method == "rename" and not any(keyword(call, k) for k in _RENAME_KEYWORDS):
        return
    if method == "replace" and isinstance(receiver, cst.SimpleString | cst.FormattedString):
        return  # "text".replace(...) alone is odd, but not about data frames
    if method == "set_index" and not _names_columns(call):
        return  # a model's own set_index(data), as recommender libraries define
    if isinstance(receiver, cst.Call):
        return  # `df.groupby(...).size().reset_index()`: a temporary nobody expects to change
    root = receiver
    while isinstance(root, cst.Attribute | cst.Subscript | cst.Call):
        root = root.value if not isinstance(root, cst.Call) else root.func
    if isinstance(root, cst.Name) and (root.value in ctx.aliases or root.value in ("self", "cls")):
        return  # a module, something imported, or the class's own methods
    ctx.report(node, call=f"{ctx.code(receiver)}.{method}(...)", target=ctx.code(receiver))
