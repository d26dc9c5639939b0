"""One walk of a libcst tree that dispatches to every rule's visitors.

libcst's own ``visit_batched`` rebuilds every node on the way back up (on yolov5 that walk costs
three quarters of the parse). Rules here are batched the same way, one walk dispatching to each
rule's ``visit_<Node>``/``leave_<Node>`` functions, but the walk reads dataclass fields directly
and skips whitespace and punctuation, which makes it about four times cheaper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from functools import cache
from typing import Any

import libcst as cst

from rules.context import Context, Visitor

_TRIVIA_FIELDS = frozenset(
    {
        "leading_lines", "lines_after_decorators", "header", "footer", "trailing_whitespace",
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon",
        "colon", "equal", "dot", "star", "operator", "newline", "whitespace", "asynchronous",
    }
)  # fmt: skip


@cache
def fields_of(node_type: type) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _TRIVIA_FIELDS
        and not f.name.startswith("whitespace")
        and not f.name.endswith("_whitespace")
    )


@cache
def node_class(name: str) -> type[cst.CSTNode]:
    """The libcst node type a visitor's name refers to: ``visit_Call`` -> ``cst.Call``."""
    found = getattr(cst, name, None)
    if not (isinstance(found, type) and issubclass(found, cst.CSTNode)):
        raise ValueError(f"{name!r} is not a libcst node type")
    return found


def walk(
    module: cst.Module,
    enter: dict[type, list[tuple[Visitor, Context]]],
    leave: dict[type, list[tuple[Visitor, Context]]],
    ancestors: list[cst.CSTNode],
    failed: dict[str, str],
) -> None:
    # The hot loop of the engine: set look-ups instead of isinstance() against libcst's
    # abstract base classes, which is several times slower.
    field_names = _FIELD_NAMES
    node_types = NODE_TYPES
    leaving = object()
    stack: list[Any] = [module]
    while stack:
        node = stack.pop()
        if node is leaving:
            node = ancestors.pop()
            handlers = leave.get(type(node))
            if handlers:
                dispatch(handlers, node, failed)
            continue
        node_type = type(node)
        handlers = enter.get(node_type)
        if handlers:
            dispatch(handlers, node, failed)
        names = field_names.get(node_type)
        if names is None:
            names = field_names[node_type] = fields_of(node_type)
        children = []
        for name in names:
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                children.extend([item for item in value if type(item) in node_types])
            elif kind in node_types:
                children.append(value)
        if not children and node_type not in leave:
            continue  # a leaf (a name, a number): nobody's ancestor, nothing to do on leaving
        ancestors.append(node)
        stack.append(leaving)
        children.reverse()
        stack.extend(children)


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children in order, without whitespace and punctuation: what libcst's
    ``children`` gives, less the trivia, at a fraction of its cost (which visits every field)."""
    names = _FIELD_NAMES.get(type(node))
    if names is None:
        names = _FIELD_NAMES[type(node)] = fields_of(type(node))
    children: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            children.extend([item for item in value if type(item) in NODE_TYPES])
        elif kind in NODE_TYPES:
            children.append(value)
    return children


def _subclasses(base: type) -> set[type]:
    found = set()
    pending = [base]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
NODE_TYPES: frozenset[type] = frozenset(_subclasses(cst.CSTNode))


def dispatch(
    handlers: list[tuple[Visitor, Context]], node: cst.CSTNode, failed: dict[str, str]
) -> None:
    for visitor, ctx in handlers:
        if failed and ctx.rule.code in failed:
            continue
        try:
            visitor(node, ctx)
        except Exception as exc:  # a bug in one rule must not hide the others' findings
            failed[ctx.rule.code] = f"{type(exc).__name__}: {exc}"


def call_visitor(visitor: Visitor, node: cst.CSTNode, ctx: Context, failed: dict[str, str]) -> None:
    if ctx.rule.code in failed:
        return
    try:
        visitor(node, ctx)
    except Exception as exc:  # a bug in one rule must not hide the other rules' findings
        failed[ctx.rule.code] = f"{type(exc).__name__}: {exc}"


def find_chains(
    module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> dict[int, tuple[cst.CSTNode, ...]]:
    """The ancestors of nodes reported after the walk moved on, in one more cheap walk."""
    wanted = {id(n) for n in nodes}
    found: dict[int, tuple[cst.CSTNode, ...]] = {}
    pending: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
    while pending and len(found) < len(wanted):
        node, chain = pending.pop()
        if id(node) in wanted:
            found[id(node)] = chain
        inner = (*chain, node)
        for name in fields_of(type(node)):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                pending.extend((v, inner) for v in value if type(v) in NODE_TYPES)
            elif type(value) in NODE_TYPES:
                pending.append((value, inner))
    return found
