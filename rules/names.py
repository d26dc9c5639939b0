"""Cheap semantic names: resolve ``np.random.seed`` to ``numpy.random.seed`` through imports.

libcst's QualifiedNameProvider runs a full scope analysis (ten times the parse). Rules only need
to know which module an attribute chain comes from, so we keep an alias table fed by the
file's import statements.
"""

from __future__ import annotations

import libcst as cst


def dotted(node: cst.CSTNode) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    # Type identity, not isinstance: libcst's node classes are ABCs, whose isinstance is
    # several times slower, and this runs for most expressions of every file.
    parts = []
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def module_name(node: cst.BaseExpression | None, relative: int = 0) -> str:
    text = dotted(node) if node is not None else ""
    return "." * relative + (text or "")


def add_import(aliases: dict[str, str], node: cst.Import | cst.ImportFrom) -> None:
    if isinstance(node, cst.Import):
        for alias in node.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                aliases[alias.asname.name.value] = full
            else:
                root = full.split(".", 1)[0]
                aliases[root] = root
        return
    if isinstance(node.names, cst.ImportStar):
        return
    base = module_name(node.module, len(node.relative))
    for alias in node.names:
        name = dotted(alias.name) or ""
        bound = name
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            bound = alias.asname.name.value
        aliases[bound] = f"{base}.{name}" if base and not base.endswith(".") else base + name


def qualify(node: cst.CSTNode, aliases: dict[str, str]) -> str | None:
    """The imported name an expression refers to, or its plain dotted text when not imported.

    ``open`` stays ``open``; ``pd.read_csv`` becomes ``pandas.read_csv`` after
    ``import pandas as pd``; ``x.y`` with ``x`` a local stays ``x.y``.
    """
    text = dotted(node)
    if text is None:
        return None
    root, dot, rest = text.partition(".")
    target = aliases.get(root)
    if target is None:
        return text
    return target + dot + rest


def call_name(node: cst.CSTNode, aliases: dict[str, str]) -> str | None:
    """Qualified name of the function a Call calls."""
    if type(node) is cst.Call:
        return qualify(node.func, aliases)
    return None


def method_name(call: cst.Call) -> str | None:
    """``fit`` for ``anything.fit(...)``."""
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return None


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def string_value(node: cst.CSTNode) -> str | None:
    """The value of a plain (non-f, non-byte) string literal, including implicit concatenation."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return None if left is None or right is None else left + right
    return None


def number_value(node: cst.CSTNode) -> float | None:
    if isinstance(node, cst.Integer | cst.Float):
        return float(node.evaluated_value)
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer | cst.Float)
    ):
        return -float(node.expression.evaluated_value)
    return None


def bound_names(target: cst.CSTNode) -> list[str]:
    """The plain names an assignment target binds: ``a``, ``a, (b, *c)`` -> a, b, c."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in bound_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return bound_names(target.value)
    return []


def is_reference(node: cst.Name, parent: cst.CSTNode | None) -> bool:
    """Whether a name in the code refers to something: not the ``x`` of ``obj.x``, the name a
    ``def`` or ``class`` defines, or a keyword of a call."""
    if isinstance(parent, cst.Attribute) and parent.attr is node:
        return False
    if isinstance(parent, cst.ClassDef | cst.FunctionDef) and parent.name is node:
        return False
    return not (isinstance(parent, cst.Arg) and parent.keyword is node)
