"""rules/ml/dataflow.py: the statement-order walk DEBT601 and DEBT602 share."""

from __future__ import annotations

import textwrap

import libcst as cst

from rules.ml.dataflow import StatementWalk, assigned_names, block, calls
from rules.names import dotted


class Taint(StatementWalk[str]):
    """``source(name)`` makes a value carrying ``name``; ``sink(x)`` records what ``x`` carries."""

    def __init__(self) -> None:
        self.env: dict[str, set[str]] = {}
        self.sunk: list[set[str]] = []
        self.appends: list[tuple[str, set[str]]] = []
        self.returns: list[set[str]] = []
        self.events: list[str] = []

    def labels(self, expr: cst.CSTNode) -> set[str]:
        if isinstance(expr, cst.Name | cst.Attribute) and dotted(expr) is not None:
            return set(self.env.get(dotted(expr) or "", ()))
        if isinstance(expr, cst.Call) and dotted(expr.func) == "source":
            return {str(expr.args[0].value.value)}  # type: ignore[attr-defined]
        if isinstance(expr, cst.Lambda):
            return set()
        found: set[str] = set()
        for child in expr.children:
            found |= self.labels(child)
        return found

    def evaluate(self, node: cst.CSTNode) -> None:
        for call in calls(node):
            if dotted(call.func) == "sink":
                self.sunk.append(set().union(*(self.labels(a.value) for a in call.args)))
                self.events.append("sink")

    def bind(self, target: cst.CSTNode, value: cst.CSTNode, labels: set[str]) -> None:
        for name in _names(target):
            self.env[name] = set(labels)
            self.events.append(f"bind {name}")

    def appended(self, receiver: str, call: cst.Call, labels: set[str]) -> None:
        self.appends.append((receiver, labels))
        self.env[receiver] = self.env.get(receiver, set()) | labels

    def returned(self, value: cst.BaseExpression) -> None:
        self.returns.append(self.labels(value))


def _names(target: cst.CSTNode) -> list[str]:
    if isinstance(target, cst.Tuple | cst.List):
        return [n for e in target.elements for n in _names(e.value)]
    name = dotted(target)
    return [name] if name else []


def walked(code: str) -> Taint:
    walk = Taint()
    walk.walk(cst.parse_module(textwrap.dedent(code)).body)
    return walk


def test_a_statement_is_judged_before_it_assigns() -> None:
    walk = walked(
        """
        x = source(a)
        x = sink(x)
        x = source(b)
        sink(x)
        """
    )
    assert walk.sunk == [{"a"}, {"b"}]
    assert walk.events == ["bind x", "sink", "bind x", "bind x", "sink"]


def test_augmented_assignment_keeps_what_the_target_carried() -> None:
    walk = walked("x = source(a)\nx += source(b)\nsink(x)\n")
    assert walk.sunk == [{"a", "b"}]


def test_a_loop_body_runs_twice_so_the_next_round_sees_this_one() -> None:
    walk = walked(
        """
        y = None
        for item in rows:
            sink(y)
            y = source(loop)
        """
    )
    assert walk.sunk == [set(), {"loop"}]


def test_while_loops_and_their_else() -> None:
    walk = walked(
        """
        while sink(z):
            z = source(w)
        else:
            sink(z)
        """
    )
    assert walk.sunk == [set(), {"w"}, {"w"}]


def test_for_targets_and_with_names_carry_what_they_come_from() -> None:
    walk = walked(
        """
        for a, b in source(pairs):
            sink(a)
        with source(file) as handle:
            sink(handle)
        """
    )
    assert walk.sunk == [{"pairs"}, {"pairs"}, {"file"}]


def test_branches_and_handlers_are_walked_in_order() -> None:
    walk = walked(
        """
        if sink(source(test)):
            x = source(then)
        elif other:
            x = source(elif_)
        else:
            sink(x)
        try:
            y = source(body)
        except ValueError:
            sink(y)
        else:
            sink(y)
        finally:
            sink(x)
        """
    )
    assert walk.sunk == [{"test"}, {"elif_"}, {"body"}, {"body"}, {"elif_"}]


def test_appending_to_a_collection_and_returning() -> None:
    walk = walked(
        """
        rows = []
        rows.append(source(a))
        rows.extend([source(b)])
        return rows
        """
    )
    assert walk.appends == [("rows", {"a"}), ("rows", {"b"})]
    assert walk.returns == [{"a", "b"}]


def test_one_line_suites() -> None:
    walk = walked("if ready: x = source(a)\nsink(x)\n")
    assert walk.sunk == [{"a"}]
    statement = cst.parse_statement("if ready: x = 1")
    assert isinstance(statement, cst.If)
    assert block(statement.body) == (statement.body,)


def test_calls_skip_what_runs_later() -> None:
    node = cst.parse_module("f(g(x), key=lambda v: h(v))\ndef inner():\n    k()\n")
    names = sorted(dotted(c.func) or "" for c in calls(node))
    assert names == ["f", "g"]


def test_assigned_names_of_a_function_not_of_its_inner_functions() -> None:
    function = cst.parse_statement(
        textwrap.dedent(
            """
            def outer(p):
                a, (b, *c) = p
                d += 1
                for e in p:
                    pass
                with open(p) as f:
                    pass
                if (g := 3):
                    pass
                def inner():
                    hidden = 1
            """
        )
    )
    assert assigned_names(function) == {"a", "b", "c", "d", "e", "f", "g"}
