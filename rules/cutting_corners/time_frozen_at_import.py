"""
What it does
------------
Flags the current time read once when a module is imported: ``datetime.now()``,
``datetime.today()``, ``datetime.utcnow()``, ``date.today()``, ``time.time()`` or
``pd.Timestamp.now()`` evaluated in a module-level assignment (or a class body) of a module
that is meant to be imported, or in a function's default argument value anywhere.

Scripts are left alone at module level: a file with an ``if __name__ == "__main__":`` block, a
loop or ``parser.parse_args()`` at module level, or whose name cannot be imported
(``run-tests.py``), runs once, so its import time is its run time.
Function bodies, ``__main__`` blocks, tests, documentation (Sphinx ``conf.py``, ``docs/``) and
notebooks kept as scripts (``# %%`` cells) are not flagged.

Why is this bad?
----------------
A module is imported once per process, and long-lived processes are where pipelines run:
schedulers that parse DAG files, workflow registrations, model servers, notebooks. The
"current" date stops moving when the module is imported, so a nightly job keeps filtering,
naming or stamping its data with the day the worker started. A default argument is worse: it
is evaluated once when the function is defined, so every call shares that first timestamp.

Example
-------
.. code-block:: python

    RUN_DATE = datetime.date.today()

    def export(frame, stamp=datetime.datetime.now()):
        frame.to_parquet(f"exports/{stamp:%Y%m%d}.parquet")

Use instead
-----------
Read the time where it is needed, or pass the run date in:

.. code-block:: python

    def export(frame, stamp=None):
        stamp = stamp or datetime.datetime.now()
        frame.to_parquet(f"exports/{stamp:%Y%m%d}.parquet")

References
----------
- Python tutorial, "Default Argument Values": the default is evaluated only once
- Airflow documentation, best practices: avoid a dynamic ``start_date`` such as ``datetime.now()``
- flake8-bugbear ``B008`` (function call in argument defaults) is the general form
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT320",
    name="time-frozen-at-import",
    principle="cutting-corners",
    severity="warning",
    message="Read the current time when the code runs, not once at import: `{call}` is frozen here.",
    valid=(
        # Near miss: inside a function body.
        """
def stamp():
    return datetime.datetime.now()
""",
        # Near miss: a script's module level runs once, when the script runs.
        Example(
            """
import datetime
START = datetime.datetime.now()

if __name__ == "__main__":
    print(START)
""",
            path="run.py",
        ),
        # Near miss: a training script without a guard times its own run.
        """
import time
args = parser.parse_args()
since = time.time()
for epoch in range(args.epochs):
    train(epoch)
print(time.time() - since)
""",
        # Near miss: a default of None filled in at call time.
        """
import datetime
def export(stamp=None):
    stamp = stamp or datetime.datetime.now()
""",
        # Near miss: a lambda defers the call.
        """
import time
clock = lambda: time.time()
""",
        Example(
            """
import time
T0 = time.time()
""",
            path="tests/conftest.py",
        ),
        # Near miss: Sphinx configuration, read once per documentation build.
        Example(
            """
from datetime import datetime
copyright = f"{datetime.now().year}, the authors"
""",
            path="docs/source/conf.py",
        ),
    ),
    invalid=(
        """
import datetime
RUN_DATE = datetime.date.today()
""",
        """
from datetime import datetime
def export(frame, stamp=datetime.now()):
    frame.to_parquet(f"{stamp:%Y%m%d}.parquet")
""",
        """
import datetime
GROUPS = {"spark": [("pi", {"triggered_date": datetime.datetime.now()})]}
""",
        """
import pandas as pd
class Settings:
    cutoff = pd.Timestamp.now()
""",
    ),
    default_enabled=False,
    disabled_because="0 of 6 findings right before its script and docs exclusions; none left to measure on 13 repositories",
)

_NOW = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.today",
        "datetime.datetime.utcnow",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "pandas.Timestamp.now",
        "pandas.Timestamp.today",
        "pandas.Timestamp.utcnow",
        "pandas.datetime.now",
    }
)
_PARSES_ARGS = re.compile(r"^\w+\s*=\s*\w+\.parse(_known)?_args\(", re.MULTILINE)
_IMPORTABLE = re.compile(r"^[A-Za-z_]\w*\.py$")


class _Now(cst.CSTVisitor):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.found: cst.Call | None = None

    def visit_Call(self, node: cst.Call) -> bool:
        if self.found is None and self.ctx.call_name(node) in _NOW:
            self.found = node
        return self.found is None

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


def _now_in(node: cst.CSTNode, ctx: Context) -> cst.Call | None:
    finder = _Now(ctx)
    node.visit(finder)
    return finder.found


def _is_main_guard(node: cst.CSTNode) -> bool:
    if not isinstance(node, cst.If) or not isinstance(node.test, cst.Comparison):
        return False
    parts = [node.test.left] + [c.comparator for c in node.test.comparisons]
    return any(isinstance(p, cst.Name) and p.value == "__name__" for p in parts)


# Documentation built once per build: Sphinx's ``conf.py`` and anything under a docs folder.
_DOCS = re.compile(r"(^|/)docs?/|(^|/)conf\.py$")
# A notebook kept as a script (jupytext or VS Code cells): it runs top to bottom once.
_CELL = re.compile(r"^# (%%|In\[)", re.MULTILINE)


def _skipped(ctx: Context) -> bool:
    return ctx.is_test or bool(_DOCS.search(ctx.path)) or bool(_CELL.search(ctx.text))


def _is_script(ctx: Context) -> bool:
    name = ctx.path.rsplit("/", 1)[-1]
    if not _IMPORTABLE.match(name):
        return True
    module = ctx.module
    if module is None:
        return False
    # A guard, or work done at module level (a loop, parsed command-line arguments): a file run
    # once from top to bottom, like a notebook.
    return any(
        _is_main_guard(s) or isinstance(s, cst.For | cst.While) for s in module.body
    ) or bool(_PARSES_ARGS.search(ctx.text))


def _at_import_time(ctx: Context) -> bool:
    """Whether the statement being visited runs when the module is imported: not inside a
    function, a lambda or a ``__main__`` block."""
    for ancestor in ctx.ancestors:
        if isinstance(ancestor, cst.FunctionDef | cst.Lambda) or _is_main_guard(ancestor):
            return False
    return True


def _report(node: cst.CSTNode, ctx: Context) -> None:
    call = _now_in(node, ctx)
    if call is not None:
        ctx.report(call, call=ctx.code(call.func) + "()")


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    if _skipped(ctx) or not _at_import_time(ctx) or _is_script(ctx):
        return
    _report(node.value, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    if _skipped(ctx) or node.value is None or not _at_import_time(ctx) or _is_script(ctx):
        return
    _report(node.value, ctx)


def visit_Param(node: cst.Param, ctx: Context) -> None:
    if _skipped(ctx) or node.default is None:
        return
    _report(node.default, ctx)
