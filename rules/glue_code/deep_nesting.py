"""
What it does
------------
Flags control-flow blocks (``if``, ``for``, ``while``, ``with``, ``try``, ``match``) nested
more than ``max-depth`` levels deep (option ``[tool.debtbot.rules.DEBT803]``, default 4) inside
one function. The first block past the limit is reported, once per function.

An ``elif`` is not a level of nesting (it continues the ``if`` it belongs to), nor are
``else``, ``except`` and ``finally`` clauses. A nested function starts counting again from zero.
Test files and module-level code are not flagged.

Why is this bad?
----------------
Each level of nesting is one more condition a reader has to keep in mind to know when a line
runs. ML glue code nests quickly: a loop over datasets, a loop over folds, a ``with`` for the
experiment tracker, a ``try`` around the fit and an ``if`` for a special case. At that depth
the branches are hard to test one by one, and special cases added later end up in the wrong
branch without anyone noticing.

Example
-------
.. code-block:: python

    def evaluate(runs):
        for run in runs:
            for fold in run.folds:
                with mlflow.start_run():
                    if fold.valid:
                        if fold.metric > best:
                            best = fold.metric

Use instead
-----------
Return or ``continue`` early, and move the inner steps into functions:

.. code-block:: python

    def evaluate(runs):
        folds = [fold for run in runs for fold in run.folds if fold.valid]
        for fold in folds:
            log_fold(fold)
        return max(fold.metric for fold in folds)

References
----------
- pylint ``R1702`` (too-many-nested-blocks, default 5)
- SonarQube ``S134`` (control flow statements should not be nested too deeply)
- ruff ``C901`` (complex-structure)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule

RULE = Rule(
    code="DEBT803",
    name="deep-nesting",
    principle="glue-code",
    severity="info",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Flatten `{name}`: this block is nested {depth} levels deep (limit {limit}); return early or extract a function.",
    options={"max-depth": 4},
    valid=(
        # Near miss: exactly the allowed depth.
        """
def evaluate(runs, best):
    for run in runs:
        for fold in run.folds:
            with tracker.start_run():
                if fold.metric > best:
                    best = fold.metric
    return best
""",
        # Near miss: a long elif chain is one level, not six.
        """
def encode(df, kind):
    for column in df.columns:
        with warnings.catch_warnings():
            try:
                if kind == "onehot":
                    df = onehot(df, column)
                elif kind == "ordinal":
                    df = ordinal(df, column)
                elif kind == "target":
                    df = target(df, column)
                elif kind == "hash":
                    df = hashed(df, column)
                else:
                    raise ValueError(kind)
            except KeyError:
                continue
    return df
""",
        # Near miss: a nested function starts from zero.
        """
def make_loader(paths):
    for path in paths:
        if path.exists():
            def read(batch):
                for row in batch:
                    if row:
                        yield row
            yield read
""",
    ),
    invalid=(
        Example(
            """
def evaluate(runs, best):
    for run in runs:
        for fold in run.folds:
            with tracker.start_run():
                if fold.valid:
                    if fold.metric > best:
                        best = fold.metric
    return best
""",
            line=6,
        ),
        Example(
            """
class Cleaner:
    def clean(self, frames):
        for name, df in frames.items():
            try:
                for column in df.columns:
                    if df[column].dtype == object:
                        while df[column].str.contains("  ").any():
                            df[column] = df[column].str.replace("  ", " ")
            except KeyError:
                pass
""",
            line=7,
        ),
    ),
)


@dataclass
class State:
    """The functions being walked, innermost last, and how deep each one's blocks nest."""

    # One per enclosing function: [name, depth, blocks counted, reported already].
    frames: list[list] = field(default_factory=list)


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if not ctx.is_test:
        ctx.state.frames.append([node.name.value, 0, set(), False])


def leave_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    if not ctx.is_test:
        ctx.state.frames.pop()


def _enter(node: cst.BaseCompoundStatement, ctx: Context[State]) -> None:
    frames = ctx.state.frames
    if not frames:
        return
    parent = ctx.parent()
    if isinstance(node, cst.If) and isinstance(parent, cst.If) and parent.orelse is node:
        return  # an elif
    frame = frames[-1]
    frame[1] += 1
    frame[2].add(id(node))
    limit = ctx.options["max-depth"]
    if frame[1] > limit and not frame[3]:
        frame[3] = True
        ctx.report(node, name=frame[0], depth=frame[1], limit=limit)


def _leave(node: cst.BaseCompoundStatement, ctx: Context[State]) -> None:
    frames = ctx.state.frames
    if frames and id(node) in frames[-1][2]:
        frames[-1][1] -= 1
        frames[-1][2].discard(id(node))


visit_If = visit_For = visit_While = visit_With = _enter
visit_Try = visit_TryStar = visit_Match = _enter
leave_If = leave_For = leave_While = leave_With = _leave
leave_Try = leave_TryStar = leave_Match = _leave
