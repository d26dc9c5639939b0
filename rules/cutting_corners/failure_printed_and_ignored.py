"""
What it does
------------
Flags a handler that catches everything (bare ``except:``, ``Exception`` or ``BaseException``)
around a step that loads, fetches, syncs, trains or evaluates something, when the handler only
prints or logs the failure and then goes on: falls off the end, ``continue``\\ s, or returns
``None`` or an empty default.

The step counts when the ``try`` body calls a known data or model reader, a download or a
remote service (the tables of ``rules.ml.data_calls``), or a function whose own name says it
loads or fetches something (``load_*``, ``read_*``, ``fetch_*``, ``retrieve_*``, ``sync``,
``download_*``, ``train``, ``fit``, ``evaluate``). Left alone: handlers that re-raise or exit,
narrow exception types, cleanup code (``close``, ``remove``, ``shutdown``), handlers that do more
than report (a real fallback computation), ``pass``-only handlers (DEBT301) and tests.

Why is this bad?
----------------
A message on the console is not a failure anyone downstream can see. The function returns as if
it worked, the caller receives ``None`` or an empty result, and the pipeline step finishes with
status 0 on missing data, a missing setting or a model that was never evaluated. The printed
line is found, if at all, after the numbers have gone wrong.

Example
-------
.. code-block:: python

    def get_setting(name):
        try:
            return load_settings()[name]
        except Exception:
            print(f"setting {name} not found")

Use instead
-----------
Let the error propagate, or catch only the error you expect and decide there what the fallback
is:

.. code-block:: python

    def get_setting(name, default=None):
        try:
            return load_settings()[name]
        except KeyError:
            if default is None:
                raise
            return default

References
----------
- ruff ``BLE001`` (blind except) and pylint ``W0718`` (broad-exception-caught) flag the broad
  clause whatever the handler does
- DEBT301 (swallowed-exception) covers the handler that does nothing at all
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule
from rules.ml import data_calls, output
from rules.names import dotted

RULE = Rule(
    code="DEBT319",
    name="failure-printed-and-ignored",
    principle="cutting-corners",
    severity="warning",
    message=(
        "Let the failure of this step propagate, or catch only the error you expect, instead of"
        " `{caught}` that only reports it and carries on."
    ),
    valid=(
        # Near miss: the handler re-raises after logging.
        """
try:
    df = pd.read_csv(path)
except Exception:
    logger.error("cannot read %s", path, exc_info=True)
    raise
""",
        # Near miss: a narrow exception type.
        """
try:
    df = pd.read_csv(path)
except FileNotFoundError:
    print("no file, using an empty frame")
    df = None
""",
        # Near miss: an optional import.
        """
try:
    import wandb
except Exception:
    print("wandb not available")
""",
        # Near miss: cleanup that may fail.
        """
try:
    os.remove(tmp_path)
except Exception:
    print("could not remove", tmp_path)
""",
        # Near miss: the step exits non-zero.
        """
try:
    model = load_model(path)
except Exception as error:
    print(error)
    sys.exit(1)
""",
        # Near miss: the handler computes a real fallback, not just a message.
        """
try:
    config = load_config(path)
except Exception:
    print("using defaults")
    config = build_default_config()
""",
        # Near miss: a test.
        Example(
            """
try:
    model = load_model(path)
except Exception:
    print("skipped")
""",
            path="tests/test_model.py",
        ),
        # Near miss: a fallback chain whose last step exits when nothing was found.
        """
def get_dataset(ws, name):
    df = None
    try:
        df = Dataset.get_by_name(ws, name).to_pandas_dataframe()
    except Exception:
        print("not registered, trying a local file")
    try:
        df = pd.read_csv(name)
    except Exception:
        print("no local file")
    if df is None:
        sys.exit("no dataset")
    return df
""",
        # Near miss: the function raises once every attempt has failed.
        """
def get_model(name):
    try:
        return load_model(name)
    except Exception:
        print("not found", name)
    raise RuntimeError(f"no model {name}")
""",
    ),
    invalid=(
        Example(
            """
def get_env_var(name):
    var = None
    try:
        var = retrieve_config()[name]
    except Exception:
        print(f"'{name}' is not defined")
    return var
""",
            line=5,
        ),
        """
def sync_all(remote, executions):
    try:
        for execution in executions:
            remote.sync(execution)
    except Exception:
        print(traceback.format_exc())
""",
        """
for path in paths:
    try:
        frames.append(pd.read_parquet(path))
    except Exception as error:
        logger.warning("skipping %s: %s", path, error)
        continue
""",
        """
def get_dataset(ws, name):
    try:
        return Dataset.get_by_name(ws, name).to_pandas_dataframe()
    except BaseException:
        print("cannot load", name)
        return None
""",
    ),
    default_enabled=False,
    disabled_because="5 of 5 findings right, but only in 2 repositories (13 checked): too few to trust on unseen code",
)

_BROAD = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})

# A called function whose own name says the step loads, fetches or runs something the pipeline
# needs (method names too: the receiver's type is unknown, as in ``rules.ml.data_calls``).
_STEP_NAME = re.compile(
    r"^(load|read|fetch|retrieve|download|sync|restore|train|fit|evaluate|predict)(_\w*)?$"
    r"|^(get|to)_(dataset|data|config|configuration|settings|model|pandas_dataframe)\w*$"
    r"|^from_(config|pretrained)$|^get_by_name$",
    re.IGNORECASE,
)
# Calls that release or remove something: a failure there is rarely worth stopping for.
_CLEANUP = re.compile(
    r"^(close|remove|unlink|rmtree|rmdir|shutdown|terminate|kill|stop|cancel|delete|cleanup"
    r"|clean_up|disconnect|release|flush|join)$",
    re.IGNORECASE,
)
# Values a handler may return and still be "nothing": None and empty literals.
_EMPTY = (cst.List, cst.Dict, cst.Tuple, cst.Set)


def _is_broad(handler: cst.ExceptHandler, ctx: Context) -> str | None:
    if handler.type is None:
        return "except"
    caught = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    for item in caught:
        expr = item.value if isinstance(item, cst.Element) else item
        if ctx.qualified_name(expr) in _BROAD:
            return f"except {ctx.code(handler.type)}"
    return None


def _reports(call: cst.Call, ctx: Context) -> bool:
    qualified = ctx.call_name(call)
    if output.is_printer(call, qualified):
        return True
    return output.log_level(call, qualified, set()) is not None


def _empty(value: cst.BaseExpression | None) -> bool:
    if value is None:
        return True
    if isinstance(value, cst.Name) and value.value in {"None", "False"}:
        return True
    if isinstance(value, _EMPTY):
        return not getattr(value, "elements", None)
    return False


def _only_reports(handler: cst.ExceptHandler, ctx: Context) -> bool:
    """The handler prints or logs at least once and otherwise only passes, continues, returns
    nothing, or sets a name to None."""
    body = handler.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    reported = False
    for statement in statements:
        if not isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            return False
        for small in statement.body:
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                if not _reports(small.value, ctx):
                    return False
                reported = True
            elif isinstance(small, cst.Pass | cst.Continue):
                continue
            elif isinstance(small, cst.Return | cst.Assign):
                if not _empty(small.value):
                    return False
            else:
                return False
    return reported


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.calls: list[cst.Call] = []
        self.imports = False

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Import(self, node: cst.Import) -> None:
        self.imports = True

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.imports = True

    # Nested definitions run later, not as part of this step.
    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _last_name(call: cst.Call) -> str | None:
    text = dotted(call.func)
    return text.rsplit(".", 1)[-1] if text else None


def _runs_a_step(body: cst.BaseSuite, ctx: Context) -> bool:
    calls = _Calls()
    body.visit(calls)
    if calls.imports:
        return False  # an optional import, however broad the clause
    names = [_last_name(call) for call in calls.calls]
    if any(name and _CLEANUP.match(name) for name in names):
        return False
    for call, name in zip(calls.calls, names, strict=True):
        if name and _STEP_NAME.match(name):
            return True
        if data_calls.reads_data(call, ctx) or data_calls.loads_model(call, ctx):
            return True
        if data_calls.downloads(call, ctx):
            return True
    return False


_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit", "builtins.exit", "builtins.quit"})


class _Stops(cst.CSTVisitor):
    """Whether a block raises or exits."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stops = False

    def visit_Raise(self, node: cst.Raise) -> None:
        self.stops = True

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.call_name(node) in _EXITS:
            self.stops = True


def _handled_later(node: cst.Try, ctx: Context) -> bool:
    """Whether a later statement of the same block deals with the failure: another ``try`` (the
    next attempt of a fallback chain; only the last attempt is judged) or a check that raises or
    exits when nothing was obtained (``if df is None: sys.exit(1)``, a final ``raise``)."""
    block = ctx.parent()
    statements = getattr(block, "body", None)
    if not isinstance(statements, tuple | list) or node not in statements:
        return False
    for later in statements[statements.index(node) + 1 :]:
        if isinstance(later, cst.Try):
            return True
        if isinstance(later, cst.If | cst.SimpleStatementLine):
            # ``if df is None: sys.exit(...)``, or a plain ``raise`` after the last attempt.
            stops = _Stops(ctx)
            (later.body if isinstance(later, cst.If) else later).visit(stops)
            if stops.stops:
                return True
    return False


def visit_Try(node: cst.Try, ctx: Context) -> None:
    if ctx.is_test or _handled_later(node, ctx):
        return
    for handler in node.handlers:
        caught = _is_broad(handler, ctx)
        if caught is None or not _only_reports(handler, ctx):
            continue
        if not _runs_a_step(node.body, ctx):
            return
        ctx.report(handler, caught=caught)
