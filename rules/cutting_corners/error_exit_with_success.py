"""
What it does
------------
Flags a program that reports an error and then exits with status 0: ``sys.exit()``,
``sys.exit(0)``, ``exit()``, ``quit()``, ``os._exit(0)`` or ``raise SystemExit`` right after an
error was printed or logged in the same ``except`` handler or ``if`` branch (``logger.error``,
``logging.exception``, ``print(..., file=sys.stderr)``, or a message that says something failed,
is invalid, missing or not found).

Leaves alone exits that mean "nothing to do" or "done" on purpose (usage and ``--help`` text,
"skipping", "already up to date"), handlers of ``KeyboardInterrupt`` and ``SystemExit``, and
exits with a non-zero status or a message (``sys.exit("no data")`` exits with 1).

Why is this bad?
----------------
Schedulers, CI, ``make``, Airflow's ``BashOperator`` and shell ``&&`` chains only see the exit
status. A training or data step that prints "ERROR: input file not found" and exits with 0 is a
step that succeeded: the next step runs on stale or missing data, the model is retrained on
whatever was left, and nobody reads the log line until the numbers look wrong.

Example
-------
.. code-block:: python

    if not os.path.exists(args.train_path):
        print(f"ERROR: {args.train_path} not found")
        sys.exit()

Use instead
-----------
.. code-block:: python

    if not os.path.exists(args.train_path):
        sys.exit(f"ERROR: {args.train_path} not found")  # printed to stderr, status 1

References
----------
- Python documentation of ``sys.exit``: ``None`` and 0 mean success, a string is printed and
  exits with 1
- POSIX shell: a pipeline's and ``&&``'s behaviour depends only on exit statuses
- pylint ``R1722`` (consider-using-sys-exit) is about ``exit()`` itself, not the status
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule
from rules.ml import output
from rules.ml.dataflow import calls
from rules.names import dotted, number_value

RULE = Rule(
    code="DEBT315",
    name="error-exit-with-success",
    principle="cutting-corners",
    severity="warning",
    message=(
        "Exit with a non-zero status instead of `{exit}` after reporting the error, so that "
        "whatever runs this step sees it failed."
    ),
    valid=(
        # Near miss: the error exits with a non-zero status.
        """
import sys
if not rows:
    print("ERROR: no rows", file=sys.stderr)
    sys.exit(1)
""",
        # Near miss: sys.exit with a message exits with 1.
        """
import sys
try:
    data = load(path)
except FileNotFoundError:
    sys.exit(f"input {path} not found")
""",
        # Near miss: a usage message, exiting 0 on purpose.
        """
import sys
if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
    print("usage: train.py CONFIG")
    sys.exit(0)
""",
        # Near miss: nothing to do is a success.
        """
import sys
if not new_files:
    logger.warning("no new partitions found, nothing to do")
    sys.exit(0)
""",
        # Near miss: Ctrl-C.
        """
import sys
try:
    serve()
except KeyboardInterrupt:
    print("interrupted, exiting")
    sys.exit(0)
""",
        # Near miss: the success path.
        """
import sys
train()
print("training finished")
sys.exit(0)
""",
    ),
    invalid=(
        Example(
            """
import sys
if not os.path.exists(args.train_path):
    print(f"ERROR: {args.train_path} not found")
    sys.exit()
""",
            line=4,
        ),
        Example(
            """
import logging
import sys
log = logging.getLogger(__name__)
try:
    model = load_model(path)
except Exception:
    log.exception("could not load the model")
    sys.exit(0)
""",
            line=8,
        ),
        """
import sys
if np.isnan(loss):
    print("loss is nan", file=sys.stderr)
    exit()
""",
        """
try:
    import lightgbm
except ImportError as error:
    print(error)
    quit()
""",
        """
import os
if config is None:
    logger.error("config missing")
    os._exit(0)
""",
        """
if schema != expected:
    print_rank_0("invalid checkpoint version")
    raise SystemExit
""",
    ),
)

_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit", "builtins.exit", "builtins.quit"})
# Handlers where exiting with 0 is the normal thing to do.
_QUIET_ERRORS = frozenset({"KeyboardInterrupt", "SystemExit", "GeneratorExit", "StopIteration"})

_ERROR_WORDS = re.compile(
    r"\b(error|errors|err|fail|fails|failed|failure|invalid|cannot|can ?not|can't|could ?not|"
    r"couldn't|unable|not found|no such|does ?n[o']t exist|not exist|missing|not available|"
    r"unavailable|not installed|abort|aborting|fatal|exception|not supported|unsupported|"
    r"wrong|incorrect|mismatch|denied|refused|timed out|corrupt\w*|bad)\b",
    re.IGNORECASE,
)
# Messages that say stopping here is the plan: usage, nothing to do, done.
_ON_PURPOSE = re.compile(
    r"usage|--help|nothing to|no work|already|skipp?(ed|ing)|up[ -]to[ -]date|no changes|"
    r"successful|success|finished|complete[d]?\b|done\b|interrupt|cancel|exiting gracefully|"
    # Examples and benchmarks that need more GPUs than the machine has step aside on purpose.
    r"(sufficient|enough|more|at least|requires?)\s+(\S+\s+)?gpus",
    re.IGNORECASE,
)


def _exits_with_success(node: cst.Call | cst.Raise, ctx: Context) -> bool:
    if isinstance(node, cst.Raise):
        exc = node.exc
        if exc is None:
            return False
        if isinstance(exc, cst.Call):
            return ctx.qualified_name(exc.func) == "SystemExit" and _status_zero(exc)
        return ctx.qualified_name(exc) == "SystemExit"
    return ctx.call_name(node) in _EXITS and _status_zero(node)


def _status_zero(call: cst.Call) -> bool:
    if not call.args:
        return True
    if len(call.args) != 1:
        return False
    value = call.args[0].value
    return number_value(value) == 0 or (isinstance(value, cst.Name) and value.value == "None")


def _text(node: cst.BaseExpression) -> str:
    """The literal text of a message: strings, f-string text, concatenations, ``.format``."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else ""
    if isinstance(node, cst.FormattedString):
        return "".join(
            p.value if isinstance(p, cst.FormattedStringText) else " " for p in node.parts
        )
    if isinstance(node, cst.ConcatenatedString):
        return _text(node.left) + _text(node.right)
    if isinstance(node, cst.BinaryOperation):
        return _text(node.left) + " " + _text(node.right)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return _text(node.func.value)
    return ""


def _mentions(node: cst.CSTNode, name: str) -> bool:
    if isinstance(node, cst.Name):
        return node.value == name
    return any(_mentions(child, name) for child in node.children)


def _report_kind(call: cst.Call, ctx: Context, caught: str | None) -> str | None:
    """``"error"`` when the call reports an error, ``"purpose"`` when it says stopping is
    planned, None when it is something else."""
    name = ctx.call_name(call)
    level = output.log_level(call, name, set())
    if level is None and not output.is_printer(call, name, helpers=True):
        return None
    shown = output.shown_arguments(call)
    text = " ".join(_text(arg) for arg in shown)
    if _ON_PURPOSE.search(text):
        return "purpose"
    if level in output.ERROR_LEVELS or output.writes_to_stderr(call, name, ctx):
        return "error"
    if _ERROR_WORDS.search(text):
        return "error"
    if caught is not None and any(_mentions(arg, caught) for arg in shown):
        return "error"
    return None


def _branch(ctx: Context) -> tuple[cst.CSTNode, tuple[cst.CSTNode, ...], cst.CSTNode] | None:
    """The ``if``/``else``/``except`` whose block holds the statement being visited, that
    block's statements, and the statement itself."""
    statement = None
    for index in range(len(ctx.ancestors) - 1, 0, -1):
        node = ctx.ancestors[index]
        if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            statement = node
            continue
        if statement is None:
            continue
        if isinstance(node, cst.IndentedBlock):
            owner = ctx.ancestors[index - 1]
            if isinstance(owner, cst.If | cst.Else | cst.ExceptHandler):
                return owner, tuple(node.body), statement
            return None
        if isinstance(node, cst.If | cst.Else | cst.ExceptHandler):
            return node, (statement,), statement  # if x: print(...); sys.exit()
        return None
    return None


def _caught(handler: cst.ExceptHandler, ctx: Context) -> tuple[set[str], str | None]:
    if handler.type is None:
        return set(), None
    kinds = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    names = set()
    for kind in kinds:
        expr = kind.value if isinstance(kind, cst.Element) else kind
        names.add((ctx.qualified_name(expr) or "").removeprefix("builtins."))
    bound = dotted(handler.name.name) if handler.name is not None else None
    return names, bound


def _check(node: cst.Call | cst.Raise, ctx: Context) -> None:
    if not _exits_with_success(node, ctx):
        return
    found = _branch(ctx)
    if found is None:
        return
    owner, statements, statement = found
    caught = None
    if isinstance(owner, cst.ExceptHandler):
        kinds, caught = _caught(owner, ctx)
        if kinds & _QUIET_ERRORS:
            return
    reported = False
    for before in statements:
        if before is statement:
            break
        # Only what the branch itself says: a nested ``if`` may report a different failure,
        # one that it handles with its own exit.
        if not isinstance(before, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            continue
        for call in reversed(calls(before)):
            kind = _report_kind(call, ctx, caught)
            if kind == "purpose":
                return
            reported = reported or kind == "error"
    if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
        for small in statement.body:
            if small is node or (isinstance(small, cst.Expr) and small.value is node):
                break
            for call in calls(small):
                kind = _report_kind(call, ctx, caught)
                if kind == "purpose":
                    return
                reported = reported or kind == "error"
    if reported:
        ctx.report(node, exit=ctx.code(node))


def visit_Call(node: cst.Call, ctx: Context) -> None:
    _check(node, ctx)


def visit_Raise(node: cst.Raise, ctx: Context) -> None:
    _check(node, ctx)
