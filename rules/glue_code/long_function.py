"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT802"]``).
Flags a function or method with more than ``max-statements`` statements (default 50), counted
close to the way pylint's ``too-many-statements`` does (totals may differ by a few): every simple
statement, plus one for the header of every compound statement (``if``, ``elif``, ``for``, ``while``, ``with``, ``try``,
each ``except``, nested ``def`` and ``class``), at any depth, nested functions included.
Test files are not flagged.

The limit is the ``max-statements`` option (``[tool.debtbot.rules.DEBT802]``, default 50).

Why is this bad?
----------------
Long functions in ML code are usually a pipeline written out step by step: load, clean, join,
engineer features, split, fit, evaluate and save, one after the other with state threaded
through local variables. No step can be tested, reused or swapped on its own, a change to one
step silently changes the inputs of every later one, and the function keeps growing with every
experiment. It is the glue code and pipeline jungle the ML technical-debt papers warn about.

Example
-------
.. code-block:: python

    def main():
        df = pd.read_csv(path)
        df = df.dropna(subset=["age"])
        df["age_bucket"] = pd.cut(df["age"], bins=[0, 18, 35, 60, 120])
        ...  # sixty more lines of joins, features, fitting and plotting
        joblib.dump(model, "model.joblib")

Use instead
-----------
One function per step, and a short function that composes them:

.. code-block:: python

    def main(cfg):
        raw = load(cfg.data)
        features = build_features(clean(raw))
        model = fit(features, cfg.model)
        report(evaluate(model, features))
        save(model, cfg.output)

References
----------
- pylint ``R0915`` (too-many-statements, default 50)
- ruff ``PLR0915`` (too-many-statements)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": pipeline jungles
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

_STEP = '    df = df.dropna(subset=["age"])\n'

RULE = Rule(
    code="DEBT802",
    name="long-function",
    principle="glue-code",
    severity="info",
    # Off until it can tell a function this change made long from one whose signature it only
    # touched: a replay of real commits found mostly the latter.
    default_enabled=False,
    disabled_because="most findings on replayed commits were functions a change only touched",
    message="Split `{name}` ({count} statements, more than {limit}) into smaller functions, one per step.",
    options={"max-statements": 50},
    valid=(
        # Near miss: exactly at the limit.
        "def prepare(df):\n" + _STEP * 49 + "    return df\n",
        # Near miss: many statements in the module, few in each function.
        "import pandas as pd\n\n"
        + "".join(f"def step_{i}(df):\n    df = df.copy()\n    return df\n\n" for i in range(30)),
        # Near miss: a long test is not pipeline code.
        Example("def test_all():\n" + "    assert check()\n" * 60, path="tests/test_pipeline.py"),
    ),
    invalid=(
        Example(
            "import pandas as pd\n\n\ndef main(path):\n    df = pd.read_csv(path)\n" + _STEP * 50,
            line=4,
        ),
        # Compound headers, elif branches and nested functions count too.
        Example(
            "class Trainer:\n"
            "    def fit(self, loader):\n"
            "        def log(msg):\n            print(msg)\n"
            + "        for batch in loader:\n"
            + (
                "            if batch is None:\n                continue\n"
                "            elif batch.empty:\n                log('empty')\n"
            )
            * 12,
            line=2,
        ),
    ),
)


@dataclass
class State:
    """The functions being walked, outermost first, with the statements counted in each."""

    # One [function, statements so far] per enclosing function.
    stack: list[list] = field(default_factory=list)


def _count(ctx: Context[State], amount: int) -> None:
    stack = ctx.state.stack
    if stack:
        for frame in stack:
            frame[1] += amount


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if ctx.is_test:
        return
    _count(ctx, 1)
    ctx.state.stack.append([node, 0])


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if ctx.is_test:
        return
    _node, count = ctx.state.stack.pop()
    limit = ctx.options["max-statements"]
    if count > limit:
        ctx.report(node.name, name=node.name.value, count=count, limit=limit)


def visit_SimpleStatementLine(node: cst.SimpleStatementLine, ctx: Context[State]) -> None:
    _count(ctx, len(node.body))


def visit_SimpleStatementSuite(node: cst.SimpleStatementSuite, ctx: Context[State]) -> None:
    _count(ctx, len(node.body))


def _compound(node: cst.CSTNode, ctx: Context[State]) -> None:
    _count(ctx, 1)


visit_If = visit_For = visit_While = visit_With = _compound
visit_Try = visit_TryStar = visit_ExceptHandler = visit_ExceptStarHandler = _compound
visit_ClassDef = visit_Match = _compound
