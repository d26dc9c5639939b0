"""The rules of glue code, configuration debt, experimentation paths and the external world keep
their per-file state in a typed ``State`` dataclass, never in string keys of ``ctx.state``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import ROOT

FOLDERS = ("glue_code", "configuration_debt", "experimentation_paths", "external_world")
# Converted separately, by its own change.
NOT_YET = frozenset({"rules/experimentation_paths/unversioned_model_artifact.py"})


def _modules() -> list[Path]:
    paths = [path for folder in FOLDERS for path in sorted((ROOT / "rules" / folder).glob("*.py"))]
    return [path for path in paths if path.relative_to(ROOT).as_posix() not in NOT_YET]


def _is_ctx_state(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Name)
        and node.value.id == "ctx"
    )


def _aliases(tree: ast.AST) -> set[str]:
    """Names bound to ``ctx.state`` itself (``state = ctx.state``), which reach it just the same."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_ctx_state(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def string_keyed_uses(source: str) -> list[str]:
    """Every ``ctx.state[...]``, ``ctx.state.get(...)``, ``ctx.state.setdefault(...)``,
    ``... in ctx.state`` and ``setattr``/``getattr`` on it, as ``line: code``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)

    def is_state(node: ast.AST) -> bool:
        return _is_ctx_state(node) or (isinstance(node, ast.Name) and node.id in aliases)

    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            hit = is_state(node.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            hit = node.func.attr in ("get", "setdefault") and is_state(node.func.value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            hit = node.func.id in ("getattr", "setattr", "hasattr") and any(
                is_state(arg) for arg in node.args[:1]
            )
        elif isinstance(node, ast.Compare):
            hit = any(
                isinstance(op, ast.In | ast.NotIn) and is_state(right)
                for op, right in zip(node.ops, node.comparators, strict=True)
            )
        else:
            continue
        if hit:
            found.append((node.lineno, node.col_offset, ast.get_source_segment(source, node)))
    return [f"{line}: {code}" for line, _, code in sorted(found)]


def _reads_state(tree: ast.AST) -> bool:
    return any(_is_ctx_state(node) for node in ast.walk(tree))


def _defines_state_dataclass(tree: ast.Module) -> bool:
    def is_dataclass(decorator: ast.expr) -> bool:
        if isinstance(decorator, ast.Call):
            decorator = decorator.func
        return (isinstance(decorator, ast.Name) and decorator.id == "dataclass") or (
            isinstance(decorator, ast.Attribute) and decorator.attr == "dataclass"
        )

    return any(
        isinstance(node, ast.ClassDef)
        and node.name == "State"
        and any(is_dataclass(d) for d in node.decorator_list)
        for node in tree.body
    )


def test_the_folders_hold_rules_that_keep_state() -> None:
    assert sum(_reads_state(ast.parse(path.read_text())) for path in _modules()) >= 10


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.name)
def test_no_string_keys_on_ctx_state(path: Path) -> None:
    assert string_keyed_uses(path.read_text()) == []


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.name)
def test_a_rule_that_reads_ctx_state_defines_a_state_dataclass(path: Path) -> None:
    tree = ast.parse(path.read_text())
    if _reads_state(tree):
        assert _defines_state_dataclass(tree)


@pytest.mark.parametrize("path", _modules(), ids=lambda path: path.name)
def test_functions_that_read_ctx_state_type_it(path: Path) -> None:
    tree = ast.parse(path.read_text())
    untyped = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _reads_state(node):
            ctx = next((arg for arg in node.args.args if arg.arg == "ctx"), None)
            annotation = ctx.annotation if ctx is not None else None
            if annotation is None or ast.unparse(annotation) != "Context[State]":
                untyped.append(f"{node.lineno}: {node.name}")
    assert untyped == []


def test_the_check_sees_string_keys_however_they_are_written() -> None:
    source = """
def visit_Call(node, ctx):
    ctx.state["seen"] = True
    ctx.state.get("count", 0)
    ctx.state.setdefault("found", []).append(node)
    if "first" in ctx.state:
        setattr(ctx.state, "flag", True)
    state = ctx.state
    state["count"] = state.get("count", 0) + 1
    ctx.state.found.append(node)
"""
    assert [use.split(":")[0] for use in string_keyed_uses(source)] == [
        "3", "4", "5", "6", "7", "9", "9",
    ]  # fmt: skip
