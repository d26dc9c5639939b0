"""
What it does
------------
Flags a class that is a function in disguise: it has no base class (or only ``object``), no
decorators and no class attributes, its only methods are ``__init__`` and one public method, and
every use of it in the file builds an instance and calls that method at once, as in
``Trainer(cfg).run()``, or as in ``trainer = Trainer(cfg)`` directly followed by
``trainer.run()`` when ``trainer`` is used nowhere else in the file.

Only the file that defines the class is read. A class that is stored and used later, subclassed,
named in an annotation, or that has a second public method, a private helper, a property or
``__call__``, or whose method refers to itself through ``self`` (recursion, or a callback that
shares the object's state) is left alone, and so are dataclasses, ``nn.Module`` subclasses and
tests.

Why is this bad?
----------------
The class adds a layer that carries no meaning: the constructor only parks arguments on
``self`` so that the one method can read them back. Readers have to follow state through
attributes instead of seeing the inputs in a signature, and the shape invites more "just in case"
methods and subclasses later. A function says the same thing in fewer lines and is simpler to
test.

Example
-------
.. code-block:: python

    class Trainer:
        def __init__(self, cfg):
            self.cfg = cfg

        def run(self):
            model = build_model(self.cfg)
            return fit(model, load_data(self.cfg.data))


    Trainer(cfg).run()

Use instead
-----------
.. code-block:: python

    def train(cfg):
        model = build_model(cfg)
        return fit(model, load_data(cfg.data))


    train(cfg)

References
----------
- pylint ``R0903`` (too-few-public-methods)
- Jack Diederich, "Stop Writing Classes" (PyCon 2012)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import libcst as cst

from rules import Context, Example, Rule
from rules.names import is_reference

RULE = Rule(
    code="DEBT201",
    name="class-as-function",
    principle="over-abstraction",
    severity="info",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message=(
        "Replace class `{name}` with a plain function, since it is only built to call "
        "`{method}` once."
    ),
    valid=(
        # Near miss: two public methods.
        """
        class Evaluator:
            def __init__(self, model):
                self.model = model

            def score(self, x, y):
                return accuracy(y, self.model.predict(x))

            def report(self, x, y):
                print(classification_report(y, self.model.predict(x)))


        Evaluator(model).score(x_val, y_val)
        """,
        # Near miss: a dataclass.
        """
        from dataclasses import dataclass


        @dataclass
        class Split:
            def __init__(self, frame):
                self.frame = frame

            def run(self):
                return train_test_split(self.frame, random_state=0)


        train, test = Split(df).run()
        """,
        # Near miss: an nn.Module subclass.
        """
        import torch.nn as nn


        class Head(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.proj = nn.Linear(dim, 10)

            def forward(self, x):
                return self.proj(x)


        logits = Head(128).forward(features)
        """,
        # Near miss: instantiated, stored and called later.
        """
        class Scorer:
            def __init__(self, path):
                self.model = joblib.load(path)

            def predict(self, rows):
                return self.model.predict_proba(rows)[:, 1]


        scorer = Scorer("model.joblib")
        for batch in batches:
            scores.extend(scorer.predict(batch))
        """,
        # Near miss: the instance is kept after the call, its state is read again.
        """
        class Tuner:
            def __init__(self, space):
                self.space = space
                self.best = None

            def search(self, data):
                self.best = max(self.space, key=lambda p: cv_score(p, data))
                return self.best


        tuner = Tuner(grid)
        tuner.search(train)
        print(tuner.best)
        """,
        # Near miss: the method recurses through self, sharing the error it accumulates.
        """
        from functools import partial


        class _NestedQuad:
            def __init__(self, func, ranges):
                self.func = func
                self.ranges = ranges
                self.error = 0.0

            def integrate(self, *args, depth=0):
                low, high = self.ranges[depth]
                inner = self.func if depth + 1 == len(self.ranges) else partial(
                    self.integrate, depth=depth + 1
                )
                value, error = quad(inner, low, high, args=args)
                self.error = max(self.error, error)
                return value


        def nquad(func, ranges):
            return _NestedQuad(func, ranges).integrate()
        """,
        # Near miss: one use chains the call, another keeps the instance.
        """
        class Loader:
            def __init__(self, root):
                self.root = root

            def load(self):
                return pd.read_parquet(self.root)


        train = Loader("data/train").load()
        test_loader = Loader("data/test")
        """,
    ),
    invalid=(
        Example(
            """
            class Trainer:
                def __init__(self, cfg):
                    self.cfg = cfg

                def run(self):
                    model = build_model(self.cfg)
                    return fit(model, load_data(self.cfg.data))


            if __name__ == "__main__":
                Trainer(load_config()).run()
            """,
            line=1,
        ),
        Example(
            """
            import pandas as pd


            class FeatureBuilder(object):
                \"\"\"Builds the churn features.\"\"\"

                def __init__(self, orders, customers):
                    self.orders = orders
                    self.customers = customers

                def build(self):
                    merged = self.orders.merge(self.customers, on="customer_id")
                    return merged.groupby("customer_id").agg({"amount": "sum"})


            def main():
                features = FeatureBuilder(pd.read_csv("o.csv"), pd.read_csv("c.csv")).build()
                features.to_parquet("features.parquet")
            """,
            line=4,
        ),
        Example(
            """
            import argparse


            def main():
                args = argparse.ArgumentParser().parse_args()
                evaluator = Evaluator(args.model_path)
                report = evaluator.evaluate(args.data)
                print(report)


            class Evaluator:
                def __init__(self, model_path):
                    self.model = joblib.load(model_path)

                def evaluate(self, data_path):
                    frame = pd.read_parquet(data_path)
                    return classification_report(frame["y"], self.model.predict(frame))
            """,
            line=11,
        ),
    ),
)


@dataclass
class State:
    """The one-method classes, the uses of names, and the calls chained on a construction."""

    candidates: dict[str, tuple[cst.ClassDef, str]] = field(default_factory=dict)
    uses: dict[str, int] = field(default_factory=dict)
    # (class, method) -> how many times ``Class(...).method(...)`` is called
    chained: dict[tuple[str, str], int] = field(default_factory=dict)
    # (variable, class, method) for ``variable = Class(...)`` then ``variable.method(...)``
    pairs: list[tuple[str, str, str]] = field(default_factory=list)


def _undecorated_method(statement: cst.CSTNode) -> cst.FunctionDef | None:
    if isinstance(statement, cst.FunctionDef) and not statement.decorators:
        return statement
    return None


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _only_method(node: cst.ClassDef) -> str | None:
    """The one public method of a class made of ``__init__`` and that method, else None."""
    if not isinstance(node.body, cst.IndentedBlock):
        return None
    names = []
    for index, statement in enumerate(node.body.body):
        if index == 0 and _is_docstring(statement):
            continue
        method = _undecorated_method(statement)
        if method is None or method.asynchronous is not None:
            return None
        names.append(method.name.value)
    if len(names) != 2 or "__init__" not in names:
        return None
    public = next(n for n in names if n != "__init__")
    if public.startswith("_"):
        return None
    method = next(
        m for m in node.body.body if isinstance(m, cst.FunctionDef) and m.name.value == public
    )
    if _refers_to_itself(method):
        return None  # recursion or a callback that shares the object's state
    return public


def _refers_to_itself(method: cst.FunctionDef) -> bool:
    """Whether the method mentions ``self.<its own name>``."""
    target = method.name.value
    pending: list[cst.CSTNode] = [method.body]
    while pending:
        node = pending.pop()
        if (
            isinstance(node, cst.Attribute)
            and node.attr.value == target
            and isinstance(node.value, cst.Name)
            and node.value.value == "self"
        ):
            return True
        pending.extend(node.children)
    return False


def _plain_bases(node: cst.ClassDef, ctx: Context) -> bool:
    if node.keywords or node.decorators:
        return False
    return all(
        arg.keyword is None and arg.star == "" and ctx.qualified_name(arg.value) == "object"
        for arg in node.bases
    )


def visit_ClassDef(node: cst.ClassDef, ctx: Context[State]) -> None:
    if ctx.is_test or len(ctx.ancestors) != 1:  # module-level classes only
        return
    if not _plain_bases(node, ctx):
        return
    method = _only_method(node)
    if method is not None:
        ctx.state.candidates[node.name.value] = (node, method)


def visit_Name(node: cst.Name, ctx: Context[State]) -> None:
    if not is_reference(node, ctx.parent()):
        return
    uses = ctx.state.uses
    uses[node.value] = uses.get(node.value, 0) + 1


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    func = node.func
    if (
        isinstance(func, cst.Attribute)
        and isinstance(func.value, cst.Call)
        and isinstance(func.value.func, cst.Name)
    ):
        key = (func.value.func.value, func.attr.value)
        chained = ctx.state.chained
        chained[key] = chained.get(key, 0) + 1


def _single_small(statement: cst.CSTNode) -> cst.BaseSmallStatement | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        return statement.body[0]
    return None


def _construction(statement: cst.CSTNode) -> tuple[str, str] | None:
    """``(variable, class)`` for ``variable = Class(...)``."""
    small = _single_small(statement)
    if (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
        and isinstance(small.value, cst.Call)
        and isinstance(small.value.func, cst.Name)
    ):
        return small.targets[0].target.value, small.value.func.value
    return None


def _method_called_on(statement: cst.CSTNode, variable: str) -> str | None:
    """``method`` when the statement is ``[x =] variable.method(...)`` or ``return ...``."""
    small = _single_small(statement)
    if isinstance(small, cst.Expr | cst.Return) or (
        isinstance(small, cst.Assign) and len(small.targets) == 1
    ):
        call = small.value
        if (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Attribute)
            and isinstance(call.func.value, cst.Name)
            and call.func.value.value == variable
        ):
            return call.func.attr.value
    return None


def _pairs(body: Sequence[cst.CSTNode], ctx: Context[State]) -> None:
    """Record ``x = Class(...)`` followed at once by ``x.method(...)``."""
    for first, second in pairwise(body):
        built = _construction(first)
        if built is None:
            continue
        method = _method_called_on(second, built[0])
        if method is not None:
            ctx.state.pairs.append((built[0], built[1], method))


def visit_IndentedBlock(node: cst.IndentedBlock, ctx: Context) -> None:
    _pairs(node.body, ctx)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    if not ctx.state.candidates:
        return
    _pairs(node.body, ctx)
    chained = ctx.state.chained
    uses = ctx.state.uses
    for variable, name, method in ctx.state.pairs:
        if uses.get(variable) == 2:  # assigned once, used once
            chained[(name, method)] = chained.get((name, method), 0) + 1
    for name, (classdef, method) in ctx.state.candidates.items():
        calls = chained.get((name, method), 0)
        if calls and uses.get(name, 0) == calls:
            ctx.report(classdef.name, name=name, method=method)
