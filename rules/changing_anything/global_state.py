"""
What it does
------------
Flags a ``global`` statement in a function that then rebinds the declared name: assigns it,
augments it (``+=``), or binds it in a ``for`` or ``with`` statement.

Left alone: a ``global`` whose names are only read or mutated through methods (the statement is
merely unnecessary), module-level constants read without ``global``, lazy initialisation
(every assignment sits under an ``if`` that tests the name, as in ``if _model is None:``, or the
function returns early when it is already set), lazy imports (``global np; import numpy as np``),
``multiprocessing`` pool initializers passed as ``initializer=`` in the same file, and test files.

Also left alone: a callback defined inside the ``if __name__ == "__main__":`` block and handed to
a framework (``trainer.register_callback("on_batch_end", on_batch_end)``), whose signature the
framework fixes and whose "global" is a local of the script; anywhere in the file, a function
registered on an event system (``ip.events.register("post_run_cell", watch_memory)``,
``signal.connect(handler)``) and the functions that register or unregister it, which share its
state by the event system's design; functions registered on a web
framework's startup hook (Flask's ``before_first_request``, Quart's ``before_serving``,
FastAPI's ``on_event("startup")``), which set a process-wide service once before any request;
and a function that says it means it with ``# pylint: disable=global-statement`` (or
``# noqa: PLW0603``).

Why is this bad?
----------------
A module global rebound inside a function is an invisible input and output of every function that
reads it. The result of ``train()`` then depends on whether ``load_config()``, ``prepare()`` or a
notebook cell ran before it and in which order; two pipeline steps that look independent are
coupled through the module, and changing one of them changes the other. It also breaks as soon
as steps run in separate processes, threads or workers, where each sees its own copy.

Example
-------
.. code-block:: python

    scaler = None

    def preprocess(df):
        global scaler
        scaler = StandardScaler().fit(df[FEATURES])
        return scaler.transform(df[FEATURES])

    def predict(model, df):
        return model.predict(scaler.transform(df[FEATURES]))

Use instead
-----------
Pass the state explicitly, or keep it in an object that owns it:

.. code-block:: python

    def preprocess(df):
        scaler = StandardScaler().fit(df[FEATURES])
        return scaler, scaler.transform(df[FEATURES])

    def predict(model, scaler, df):
        return model.predict(scaler.transform(df[FEATURES]))

References
----------
- pylint ``W0603`` (global-statement); the read-only case left alone here is pylint ``W0602``
  (global-variable-not-assigned)
- ruff ``PLW0603`` (global-statement)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems" (entanglement)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import bound_names, string_value

RULE = Rule(
    code="DEBT503",
    name="global-state",
    principle="changing-anything",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Pass `{names}` explicitly, as arguments and return values, instead of rebinding module state with `global`.",
    valid=(
        # Near miss: the global is only read.
        """
THRESHOLD = 0.5
counts = {}

def label(p):
    global counts
    counts["seen"] = counts.get("seen", 0) + 1
    return p > THRESHOLD
""",
        # Near miss: lazy initialisation of a cached model.
        """
import joblib

_model = None

def get_model():
    global _model
    if _model is None:
        _model = joblib.load("model.joblib")
    return _model
""",
        # Near miss: a multiprocessing pool initializer.
        """
from multiprocessing import Pool

def init_worker(shared_lock):
    global lock
    lock = shared_lock

def main(paths):
    with Pool(4, initializer=init_worker, initargs=(make_lock(),)) as pool:
        pool.map(extract, paths)
""",
        # Near miss: a progress callback of a script, with the signature the trainer fixes.
        """
import time

if __name__ == "__main__":
    trainer = build_trainer(config)
    last_report = time.time()

    def on_step_end(trainer):
        global last_report
        if trainer.step % 50 == 0:
            print(f"{time.time() - last_report:.1f}s for 50 steps")
            last_report = time.time()

    trainer.add_callback("on_step_end", on_step_end)
    trainer.run()
""",
        # Near miss: IPython event callbacks, and the switch that registers them.
        """
import time

started = time.time()
watching = False

def pre_run_cell():
    global started
    started = time.time()

def start_watching():
    global watching
    watching = True
    get_ipython().events.register("pre_run_cell", pre_run_cell)
""",
        # Near miss: a service object built once when the web app starts.
        """
from flask import Flask

app = Flask(__name__)
scorer = None

@app.before_first_request
def load_scorer():
    global scorer
    scorer = Scorer.from_config("scorer.yaml")
""",
        """
from fastapi import FastAPI

api = FastAPI()

@api.on_event("startup")
def warm_up():
    global ranker
    ranker = load_ranker()

def reset_cache():
    # pylint: disable=global-statement
    global feature_cache
    feature_cache = {}
""",
        # Near miss: a lazy import.
        """
def plot(history):
    global plt
    import matplotlib.pyplot as plt
    plt.plot(history)
""",
    ),
    invalid=(
        # Registering something that is not a function of this file exempts nothing.
        Example(
            """
import atexit
import sqlite3

connection = None

def open_store(path):
    global connection
    connection = sqlite3.connect(path)
    atexit.register(close_store)

def close_store():
    connection.close()
""",
            line=7,
        ),
        Example(
            """
from sklearn.preprocessing import StandardScaler

scaler = None

def preprocess(df):
    global scaler
    scaler = StandardScaler().fit(df[FEATURES])
    return scaler.transform(df[FEATURES])
""",
            line=6,
        ),
        Example(
            """
def main():
    global args, device
    args = parse_args()
    device = "cuda" if args.gpu else "cpu"
    train()
""",
            line=2,
        ),
        # A helper defined in the script block but not handed to any framework.
        Example(
            """
if __name__ == "__main__":
    def prepare():
        global features
        features = build_features(load_raw())

    prepare()
    train(features)
""",
            line=3,
        ),
        Example(
            """
step = 0

def train_batch(model, batch):
    global step
    loss = model.train_on_batch(*batch)
    step += 1
    return loss
""",
            line=4,
        ),
    ),
)


@dataclass
class State:
    """The functions being walked and the globals they rebind; how the file uses its functions."""

    # One frame per function being walked (see visit_FunctionDef).
    frames: list[dict] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    # (the ``global`` statement, the names it rebinds, the function)
    candidates: list[tuple[cst.Global, list[str], str]] = field(default_factory=list)
    # Functions under ``if __name__ == "__main__":`` that rebind globals.
    main_functions: set[str] = field(default_factory=set)
    # Names passed as ``initializer=``, and names passed as any argument.
    initializers: set[str] = field(default_factory=set)
    passed: set[str] = field(default_factory=set)
    # (the function that registers, or None at module level; the names it hands over)
    registrations: list[tuple[str | None, set[str]]] = field(default_factory=list)


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    ctx.state.defined.add(node.name.value)
    if ctx.is_test:
        return
    # declared: name -> Global node; assigned/guarded: names rebound without/with a guard;
    # early: names tested by an `if` that returns.
    ctx.state.frames.append(
        {"node": node, "declared": {}, "assigned": set(), "guarded": set(), "early": set()}
    )


_STARTUP_HOOKS = frozenset(
    {"before_first_request", "before_app_first_request", "before_serving", "on_startup"}
)
_STARTUP_EVENTS = frozenset({"startup", "before_server_start", "after_server_start"})
_MAIN = re.compile(r"""^__name__\s*==\s*['"]__main__['"]$|^['"]__main__['"]\s*==\s*__name__$""")
_DISABLED = re.compile(r"pylint:\s*disable\s*=[\w\s,-]*global-statement|noqa:[\w\s,]*PLW0603")


def _startup_hook(node: cst.FunctionDef) -> bool:
    """Decorated with a web framework's startup hook."""
    for decorator in node.decorators:
        expr = decorator.decorator
        call = expr if isinstance(expr, cst.Call) else None
        func = call.func if call is not None else expr
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", "")
        if name in _STARTUP_HOOKS:
            return True
        if call is not None and name in ("on_event", "listener", "on"):
            events = [string_value(a.value) for a in call.args]
            if any(e in _STARTUP_EVENTS for e in events):
                return True
    return False


def _in_main_block(ctx: Context) -> bool:
    for ancestor in ctx.ancestors:
        if isinstance(ancestor, cst.If) and _MAIN.match(" ".join(ctx.code(ancestor.test).split())):
            return True
    return False


def _disabled(node: cst.FunctionDef, ctx: Context) -> bool:
    """``# pylint: disable=global-statement`` in the function, or alone at module level."""
    if _DISABLED.search(ctx.code(node)):
        return True
    return any(line.startswith("#") and _DISABLED.search(line) for line in ctx.lines)


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    frames = ctx.state.frames
    if not frames or frames[-1]["node"] is not node:
        return
    frame = frames.pop()
    assigned = frame["assigned"] - frame["early"]
    if not assigned:
        return
    if _startup_hook(node) or _disabled(node, ctx):
        return
    if _in_main_block(ctx):
        ctx.state.main_functions.add(node.name.value)
    seen: set[int] = set()
    for statement in frame["declared"].values():
        if id(statement) in seen:
            continue
        seen.add(id(statement))
        names = [n.name.value for n in statement.names if n.name.value in assigned]
        if names:
            candidate = (statement, names, node.name.value)
            ctx.state.candidates.append(candidate)


def visit_Global(node: cst.Global, ctx: Context[State]) -> None:
    frames = ctx.state.frames
    if frames:
        for item in node.names:
            frames[-1]["declared"][item.name.value] = node


def _frame(ctx: Context[State]) -> dict | None:
    frames = ctx.state.frames
    return frames[-1] if frames and frames[-1]["declared"] else None


def _mentions(node: cst.CSTNode, name: str) -> bool:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name) and current.value == name:
            return True
        pending.extend(current.children)
    return False


def _guarded(name: str, frame: dict, ctx: Context) -> bool:
    """Inside an `if` (or a conditional expression) that tests the name itself."""
    for ancestor in reversed(ctx.ancestors):
        if ancestor is frame["node"]:
            return False
        if isinstance(ancestor, cst.If | cst.While) and _mentions(ancestor.test, name):
            return True
    return False


def _bind(targets: list[cst.CSTNode], ctx: Context) -> None:
    frame = _frame(ctx)
    if frame is None:
        return
    for target in targets:
        for name in bound_names(target):
            if name in frame["declared"]:
                kind = "guarded" if _guarded(name, frame, ctx) else "assigned"
                frame[kind].add(name)


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    _bind([t.target for t in node.targets], ctx)


def visit_AugAssign(node: cst.AugAssign, ctx: Context) -> None:
    _bind([node.target], ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context) -> None:
    if node.value is not None:
        _bind([node.target], ctx)


def visit_For(node: cst.For, ctx: Context) -> None:
    _bind([node.target], ctx)


def visit_WithItem(node: cst.WithItem, ctx: Context) -> None:
    if node.asname is not None:
        _bind([node.asname.name], ctx)


def visit_NamedExpr(node: cst.NamedExpr, ctx: Context) -> None:
    _bind([node.target], ctx)


def visit_If(node: cst.If, ctx: Context) -> None:
    frame = _frame(ctx)
    if frame is None:
        return
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,)
    last = body[-1] if body else None
    returns = isinstance(last, cst.SimpleStatementLine | cst.SimpleStatementSuite) and any(
        isinstance(s, cst.Return) for s in last.body
    )
    if returns:
        for name in frame["declared"]:
            if _mentions(node.test, name):
                frame["early"].add(name)


def visit_Arg(node: cst.Arg, ctx: Context[State]) -> None:
    if not isinstance(node.value, cst.Name):
        return
    if node.keyword is not None and node.keyword.value == "initializer":
        ctx.state.initializers.add(node.value.value)
    # Any function handed to another call: a callback whose signature the callee fixes.
    ctx.state.passed.add(node.value.value)


# Methods that hand a function to an event system (IPython's ``events.register``, Qt's
# ``connect``, a trainer's ``add_callback``), or take it back.
_REGISTRATION = frozenset(
    {
        "register",
        "unregister",
        "register_callback",
        "add_callback",
        "remove_callback",
        "add_event_handler",
        "connect",
        "disconnect",
    }
)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if not isinstance(node.func, cst.Attribute) or node.func.attr.value not in _REGISTRATION:
        return
    if (ctx.call_name(node) or "").startswith("atexit."):
        return  # an exit hook, not an event system whose callbacks share state by design
    handed = {a.value.value for a in node.args if isinstance(a.value, cst.Name)}
    function = ctx.enclosing(cst.FunctionDef)
    registrar = function.name.value if function is not None else None
    ctx.state.registrations.append((registrar, handed))


def _event_functions(ctx: Context[State]) -> set[str]:
    """Functions of this file handed to an event system, and the functions handing them over
    (they keep the callbacks' switches: part of the same design). ``sqlite3.connect(path)`` or
    ``atexit.register(close)`` hand over no function of the file, and exempt nothing."""
    defined = ctx.state.defined
    exempt: set[str] = set()
    for registrar, handed in ctx.state.registrations:
        callbacks = handed & defined
        if callbacks:
            exempt |= callbacks
            if registrar is not None:
                exempt.add(registrar)
    return exempt


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    exempt = (
        ctx.state.initializers
        | (ctx.state.main_functions & ctx.state.passed)
        | _event_functions(ctx)
    )
    for statement, names, function in ctx.state.candidates:
        if function not in exempt:
            ctx.report(statement, names="`, `".join(names))
