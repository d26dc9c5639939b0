"""
What it does
------------
Flags a loop, or a comprehension, that walks a DataFrame row by row with ``.iterrows()``,
including through ``enumerate(...)`` and ``tqdm(...)``, to compute something: the loop body
writes into a frame, array or dict, appends to a collection, accumulates with ``+=`` or yields.
Loops that do per-row I/O (their body holds a ``try`` or ``with``) or that only call functions
with each row are left alone, and so are test files.

Why is this bad?
----------------
``iterrows`` builds a new ``Series`` for every row, in pure Python. It is orders of magnitude
slower than the same computation done on whole columns, so a feature step that takes a second on
a sample takes hours on the full table. It is also lossy: each row is squeezed into one dtype,
so integer columns come back as floats when the frame also holds floats, and ids or counts change
type without warning.

Example
-------
.. code-block:: python

    for index, row in df.iterrows():
        df.loc[index, "ratio"] = row["clicks"] / row["views"]

Use instead
-----------
Work on whole columns; when a Python loop is really needed (one request or file per row), use
``itertuples``, which is much faster and keeps each column's type:

.. code-block:: python

    df["ratio"] = df["clicks"] / df["views"]

    for row in df.itertuples(index=False):
        download(row.url, row.path)

References
----------
- pandas user guide, "Iteration": iterating through rows is rarely needed and slow
- pandas documentation of ``DataFrame.iterrows`` (notes on dtypes and on ``itertuples``)
- Zhang et al., "Code Smells for Machine Learning Applications": unnecessary iteration
- dslinter ``dataframe-iteration-modification`` (related: changing a frame while iterating it)
"""

from __future__ import annotations

import libcst as cst

from rules import Context, Rule
from rules.names import bound_names, method_name

RULE = Rule(
    code="DEBT304",
    name="iterrows-loop",
    principle="cutting-corners",
    severity="info",
    message=(
        "Replace the row-by-row `{code}` loop with operations on whole columns, "
        "or use `itertuples()` if a Python loop is unavoidable."
    ),
    valid=(
        # Near miss: iterating a dict, not a DataFrame.
        """
for name, value in metrics.items():
    logger.log(name, value)
""",
        # Near miss: the recommended fallback.
        """
for row in df.itertuples(index=False):
    download(row.url, row.path)
""",
        # Near miss: iterrows used outside a loop header.
        """
first_index, first_row = next(df.iterrows())
""",
        # Near miss: heavy per-row work with error handling; the loop itself costs nothing.
        """
for _, row in jobs.iterrows():
    try:
        export(row["format"], row["path"])
    except ExportError as error:
        log.warning("export %s failed: %s", row["format"], error)
""",
        # Near miss: one request per row, nothing computed from the rows.
        """
for _, row in batch.iterrows():
    row["id"] = str(uuid.uuid4())
    requests.post(url, data=row.to_json())
""",
        # Near miss: a loop over the columns, not the rows.
        """
for column, values in df.items():
    print(column, values.isna().mean())
""",
    ),
    invalid=(
        """
for index, row in df.iterrows():
    df.loc[index, "ratio"] = row["clicks"] / row["views"]
""",
        """
from tqdm import tqdm
for i, (_, row) in enumerate(tqdm(train.iterrows(), total=len(train))):
    texts.append(clean(row.text))
""",
        """
labels = [row["label"] for _, row in frame.iterrows()]
""",
    ),
)

_COLLECTORS = frozenset({"append", "extend", "add", "update", "writerow"})
_SKIPPED = (cst.BaseParenthesizableWhitespace, cst.Comment, cst.Newline, cst.EmptyLine)
_WRAPPERS = frozenset({"enumerate", "tqdm", "tqdm.tqdm", "tqdm.auto.tqdm", "tqdm.notebook.tqdm"})


def _iterrows_call(node: cst.BaseExpression, ctx: Context) -> cst.Call | None:
    """The ``x.iterrows()`` call that ``node`` iterates, looking through enumerate/tqdm."""
    for _ in range(3):
        if not isinstance(node, cst.Call):
            return None
        if method_name(node) == "iterrows":
            return node if not node.args else None
        if ctx.call_name(node) not in _WRAPPERS or not node.args:
            return None
        node = node.args[0].value
    return None


def _root_name(node: cst.BaseExpression) -> str | None:
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _computes_per_row(body: cst.BaseSuite, rows: set[str]) -> bool:
    """Whether the loop body builds results row by row (the work that vectorises).

    A body that writes into another frame, array or dict, appends to a collection, accumulates
    with ``+=`` or yields is a computation over columns written as a loop. A body with ``try`` or
    ``with`` does per-row I/O (a request, a file, a database row), where the loop itself costs
    little next to the work; such loops are left alone.
    """
    computes = False
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Try | cst.TryStar | cst.With | cst.Await):
            return False
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            continue
        if isinstance(node, cst.Assign):
            for target in node.targets:
                written = target.target
                if isinstance(written, cst.Subscript | cst.Attribute):
                    computes = computes or _root_name(written) not in rows
        elif isinstance(node, cst.AugAssign | cst.Yield) or (
            isinstance(node, cst.Call) and method_name(node) in _COLLECTORS
        ):
            computes = True
        pending.extend(c for c in node.children if not isinstance(c, _SKIPPED))
    return computes


def _check(iterated: cst.BaseExpression, ctx: Context) -> cst.Call | None:
    if not isinstance(iterated, cst.Call) or ctx.is_test:
        return None
    return _iterrows_call(iterated, ctx)


def visit_For(node: cst.For, ctx: Context) -> None:
    call = _check(node.iter, ctx)
    if call is not None and _computes_per_row(node.body, set(bound_names(node.target))):
        ctx.report(call, code=ctx.code(call).strip())


def visit_CompFor(node: cst.CompFor, ctx: Context) -> None:
    call = _check(node.iter, ctx)
    if call is not None:
        ctx.report(call, code=ctx.code(call).strip())
