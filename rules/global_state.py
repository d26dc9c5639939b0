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

import libcst as cst

from rules.rule import Example, Rule

RULE = Rule(
    code="DEBT503",
    name="global-state",
    principle="changing-anything",
    severity="warning",
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
        # Near miss: a lazy import.
        """
def plot(history):
    global plt
    import matplotlib.pyplot as plt
    plt.plot(history)
""",
    ),
    invalid=(
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


def _frames(ctx) -> list[dict]:
    return ctx.state.setdefault("frames", [])


def visit_FunctionDef(node: cst.FunctionDef, ctx) -> None:
    if ctx.is_test:
        return
    # declared: name -> Global node; assigned/guarded: names rebound without/with a guard;
    # early: names tested by an `if` that returns.
    _frames(ctx).append(
        {"node": node, "declared": {}, "assigned": set(), "guarded": set(), "early": set()}
    )


def leave_FunctionDef(node: cst.FunctionDef, ctx) -> None:
    frames = _frames(ctx)
    if not frames or frames[-1]["node"] is not node:
        return
    frame = frames.pop()
    assigned = frame["assigned"] - frame["early"]
    if not assigned:
        return
    seen: set[int] = set()
    for statement in frame["declared"].values():
        if id(statement) in seen:
            continue
        seen.add(id(statement))
        names = [n.name.value for n in statement.names if n.name.value in assigned]
        if names:
            candidate = (statement, names, node.name.value)
            ctx.state.setdefault("candidates", []).append(candidate)


def visit_Global(node: cst.Global, ctx) -> None:
    frames = _frames(ctx)
    if frames:
        for item in node.names:
            frames[-1]["declared"][item.name.value] = node


def _frame(ctx) -> dict | None:
    frames = _frames(ctx)
    return frames[-1] if frames and frames[-1]["declared"] else None


def _bound_names(target: cst.CSTNode) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _bound_names(e.value)]
    if isinstance(target, cst.StarredElement):
        return _bound_names(target.value)
    return []


def _mentions(node: cst.CSTNode, name: str) -> bool:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name) and current.value == name:
            return True
        pending.extend(current.children)
    return False


def _guarded(name: str, frame: dict, ctx) -> bool:
    """Inside an `if` (or a conditional expression) that tests the name itself."""
    for ancestor in reversed(ctx.ancestors):
        if ancestor is frame["node"]:
            return False
        if isinstance(ancestor, cst.If | cst.While) and _mentions(ancestor.test, name):
            return True
    return False


def _bind(targets: list[cst.CSTNode], ctx) -> None:
    frame = _frame(ctx)
    if frame is None:
        return
    for target in targets:
        for name in _bound_names(target):
            if name in frame["declared"]:
                kind = "guarded" if _guarded(name, frame, ctx) else "assigned"
                frame[kind].add(name)


def visit_Assign(node: cst.Assign, ctx) -> None:
    _bind([t.target for t in node.targets], ctx)


def visit_AugAssign(node: cst.AugAssign, ctx) -> None:
    _bind([node.target], ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx) -> None:
    if node.value is not None:
        _bind([node.target], ctx)


def visit_For(node: cst.For, ctx) -> None:
    _bind([node.target], ctx)


def visit_WithItem(node: cst.WithItem, ctx) -> None:
    if node.asname is not None:
        _bind([node.asname.name], ctx)


def visit_NamedExpr(node: cst.NamedExpr, ctx) -> None:
    _bind([node.target], ctx)


def visit_If(node: cst.If, ctx) -> None:
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


def visit_Arg(node: cst.Arg, ctx) -> None:
    if (
        node.keyword is not None
        and node.keyword.value == "initializer"
        and isinstance(node.value, cst.Name)
    ):
        ctx.state.setdefault("initializers", set()).add(node.value.value)


def leave_Module(node: cst.Module, ctx) -> None:
    initializers = ctx.state.get("initializers", set())
    for statement, names, function in ctx.state.get("candidates", []):
        if function not in initializers:
            ctx.report(statement, names="`, `".join(names))
