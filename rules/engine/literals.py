"""Literal collections: the lists, tuples, sets and dicts of constants a file binds to a name,
each kept as a hash of its items and its lines (never the items themselves).

Two files that bind the same items (experiment names, feature columns, class names, paths)
keep one list by hand in two places. The hash ignores order and the kind of collection (a list
and a tuple of the same names are the same collection: ``["a", "b"]`` and ``("b", "a")``), so
that a copy reordered or turned into a tuple still matches.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass

LEAST_ITEMS = 3
# Items too common to make a collection worth keeping once: the splits of a data set.
_COMMON = frozenset({"train", "training", "val", "valid", "validation", "test", "testing", "dev"})
# Names frameworks give their declarations (pydantic's settings of a model).
_NAMES_LEFT_OUT = frozenset({"model_config"})


@dataclass(frozen=True, slots=True)
class LiteralCollection:
    hash: int
    line: int
    end: int
    items: int  # how many items it holds
    name: str  # the name it is bound to (``EXPERIMENTS``, ``self.columns``)


def collections(text: str) -> tuple[LiteralCollection, ...]:
    """The literal collections of a file's text bound to a name by an assignment, of at least
    three distinct meaningful items (strings, or a dict of strings to constants)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return ()
    found = []
    for node, local in _assignments(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        name = _name(target)
        if name is None or name in _NAMES_LEFT_OUT or name.endswith("__"):
            continue
        if local and "." not in name:
            continue  # a local variable: a working value, not a definition others should share
        items = _items(value)
        if items is None:
            continue
        digest = hashlib.blake2b(repr(items).encode("utf-8", "surrogatepass"), digest_size=8)
        found.append(
            LiteralCollection(
                int.from_bytes(digest.digest(), "little"),
                value.lineno,
                value.end_lineno or value.lineno,
                len(items) - 1,  # less the tag of the kind
                name,
            )
        )
    return tuple(sorted(found, key=lambda c: c.line))


def _assignments(tree: ast.Module) -> list[tuple[ast.stmt, bool]]:
    """Every statement of the module, each with whether it lies in a function."""
    found: list[tuple[ast.stmt, bool]] = []
    pending: list[tuple[ast.AST, bool]] = [(tree, False)]
    while pending:
        node, local = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                found.append((child, local))
                inner = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                pending.append((child, inner))
    return found


def _name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        return f"{target.value.id}.{target.attr}"
    return None


def _items(value: ast.expr) -> tuple[object, ...] | None:
    """The collection's items in a canonical order, if it is one worth comparing."""
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        strings = [_string(item) for item in value.elts]
        if any(s is None for s in strings):
            return None
        distinct = sorted({s for s in strings if s is not None})
        if not _meaningful(distinct):
            return None
        return ("seq", *distinct)
    if isinstance(value, ast.Dict):
        keys = [_string(key) if key is not None else None for key in value.keys]
        if any(k is None for k in keys) or not _meaningful([k for k in keys if k]):
            return None
        values = []
        for item in value.values:
            if not isinstance(item, ast.Constant):
                return None
            values.append(item.value)
        if len(set(map(repr, values))) == 1:
            return None  # counters or flags set to one starting value: not a mapping kept by hand
        return ("map", *sorted(zip(keys, map(repr, values), strict=True)))
    return None


def _string(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _meaningful(items: list[str]) -> bool:
    """At least three distinct items, each a word or more (not single letters or symbols), and
    not only the usual names of data splits."""
    words = [item for item in set(items) if len(item.strip()) >= 2]
    return len(words) >= LEAST_ITEMS and not set(words) <= _COMMON


def pack(found: tuple[LiteralCollection, ...]) -> list[list[object]]:
    return [[c.hash, c.line, c.end, c.items, c.name] for c in found]


def unpack(data: list[list[object]]) -> tuple[LiteralCollection, ...]:
    return tuple(LiteralCollection(*item) for item in data)  # type: ignore[arg-type]
