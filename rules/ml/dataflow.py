"""Following values through a function's statements in the order they run.

Some rules ask where a value came from when it reaches a call: were these training rows picked by
the model's own predictions, was this file read into a ``fit``? :class:`StatementWalk` visits a
body's statements in order, evaluates each expression before the names it assigns change, and
runs a loop's body twice so that what one iteration feeds the next is seen. What a value carries
(its *labels*), how an assignment binds them and what a call means are the rule's decisions,
made in the methods a rule overrides.

The walk is deliberately simple: branches are taken one after the other rather than merged,
names are dotted paths (``df``, ``self.model``), and nested functions and classes are left to
their own walk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

import libcst as cst

from rules.names import bound_names, dotted

Label = TypeVar("Label")

# Methods that add their arguments to the object they are called on: ``rows.append(x)``.
APPENDERS = frozenset({"append", "extend", "insert", "update", "add", "appendleft"})
# How often a loop body runs: twice, so that the second round sees what the first one assigned.
LOOP_ROUNDS = 2


def block(suite: cst.BaseSuite) -> tuple[cst.CSTNode, ...]:
    """The statements of an indented block, or the one line of ``if x: a = 1``."""
    if isinstance(suite, cst.IndentedBlock):
        return tuple(suite.body)
    return (suite,)


def calls(node: cst.CSTNode) -> list[cst.Call]:
    """The calls an expression or statement makes when it runs (not those of nested functions,
    lambdas or classes, which run later if at all)."""
    found, pending = [], [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Lambda | cst.FunctionDef | cst.ClassDef):
            continue
        if isinstance(current, cst.Call):
            found.append(current)
        pending.extend(current.children)
    return found


def assigned_names(node: cst.CSTNode) -> set[str]:
    """Every plain name a function (or statement) assigns, outside nested functions and classes."""
    names: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        nested = isinstance(current, cst.FunctionDef | cst.ClassDef | cst.Lambda)
        if nested and current is not node:
            continue
        targets: list[cst.CSTNode] = []
        if isinstance(current, cst.Assign):
            targets = [t.target for t in current.targets]
        elif isinstance(current, cst.AnnAssign | cst.AugAssign | cst.For | cst.NamedExpr):
            targets = [current.target]
        elif isinstance(current, cst.WithItem) and current.asname is not None:
            targets = [current.asname.name]
        for target in targets:
            names.update(bound_names(target))
        pending.extend(current.children)
    return names


class StatementWalk(Generic[Label]):
    """Walks statements in order; a rule subclasses it and decides what values carry.

    For each statement the walk first calls :meth:`evaluate` on the expressions that run (so a
    ``fit`` or a write is judged with the labels its arguments have *before* the statement
    assigns anything), then binds the labels of assigned values with :meth:`bind`.
    """

    def walk(self, statements: Iterable[cst.CSTNode]) -> None:
        for statement in statements:
            self.statement(statement)

    # -- what a rule decides ---------------------------------------------------------------

    def labels(self, expr: cst.CSTNode) -> set[Label]:
        """What the value of ``expr`` carries."""
        return set()

    def evaluate(self, node: cst.CSTNode) -> None:
        """``node`` is about to run: look at the calls it makes (see :func:`calls`)."""

    def bind(self, target: cst.CSTNode, value: cst.CSTNode, labels: set[Label]) -> None:
        """``target`` is assigned ``value``, which carries ``labels``; also the target of a
        ``for`` loop (``value`` is what it iterates) and the name of a ``with ... as``."""

    def appended(self, receiver: str, call: cst.Call, labels: set[Label]) -> None:
        """``receiver.append(...)`` (any of :data:`APPENDERS`) added values carrying ``labels``."""

    def returned(self, value: cst.BaseExpression) -> None:
        """The function returns ``value``."""

    # -- the walk --------------------------------------------------------------------------

    def statement(self, statement: cst.CSTNode) -> None:
        if isinstance(statement, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in statement.body:
                self.small(small)
        elif isinstance(statement, cst.If):
            self.evaluate(statement.test)
            self.walk(block(statement.body))
            if statement.orelse is not None:
                self.statement(statement.orelse)
        elif isinstance(
            statement, cst.Else | cst.Finally | cst.ExceptHandler | cst.ExceptStarHandler
        ):
            self.walk(block(statement.body))
        elif isinstance(statement, cst.For):
            self.evaluate(statement.iter)
            for _ in range(LOOP_ROUNDS):
                self.bind(statement.target, statement.iter, self.labels(statement.iter))
                self.walk(block(statement.body))
            if statement.orelse is not None:
                self.statement(statement.orelse)
        elif isinstance(statement, cst.While):
            for _ in range(LOOP_ROUNDS):
                self.evaluate(statement.test)
                self.walk(block(statement.body))
            if statement.orelse is not None:
                self.statement(statement.orelse)
        elif isinstance(statement, cst.With):
            for item in statement.items:
                self.evaluate(item.item)
                if item.asname is not None:
                    self.bind(item.asname.name, item.item, self.labels(item.item))
            self.walk(block(statement.body))
        elif isinstance(statement, cst.Try | cst.TryStar):
            self.walk(block(statement.body))
            for part in (*statement.handlers, statement.orelse, statement.finalbody):
                if part is not None:
                    self.statement(part)

    def small(self, small: cst.CSTNode) -> None:
        if isinstance(small, cst.Assign | cst.AnnAssign | cst.AugAssign):
            if small.value is None:
                return
            self.evaluate(small.value)
            labels = self.labels(small.value)
            targets = (
                [t.target for t in small.targets]
                if isinstance(small, cst.Assign)
                else [small.target]
            )
            for target in targets:
                if isinstance(small, cst.AugAssign):
                    labels = labels | self.labels(target)
                self.bind(target, small.value, labels)
        elif isinstance(small, cst.Return):
            if small.value is not None:
                self.evaluate(small.value)
                self.returned(small.value)
        elif isinstance(small, cst.Expr):
            self.evaluate(small.value)
            call = small.value
            if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute):
                receiver = dotted(call.func.value)
                if receiver is not None and call.func.attr.value in APPENDERS:
                    labels: set[Label] = set()
                    for arg in call.args:
                        labels |= self.labels(arg.value)
                    self.appended(receiver, call, labels)
        else:
            self.evaluate(small)
