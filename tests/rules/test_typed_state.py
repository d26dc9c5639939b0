"""Every rule keeps its per-file state in a typed ``State``, never in a string-keyed dict."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from rules.catalogue import all_rules, principle_folder
from rules.engine.analyse import fresh_state
from rules.principles import PRINCIPLES
from tests import ROOT

FOLDERS = tuple(principle_folder(slug) for slug in PRINCIPLES)
MODULES = sorted(path for folder in FOLDERS for path in (ROOT / "rules" / folder).glob("*.py"))
_DICT_METHODS = frozenset({"get", "setdefault"})


def _is_ctx_state(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "state"
        and isinstance(node.value, ast.Name)
        and node.value.id == "ctx"
    )


def _aliases(function: ast.AST) -> set[str]:
    """Names a function binds to ``ctx.state`` itself (``state = ctx.state``)."""
    return {
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and _is_ctx_state(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _dict_uses(tree: ast.Module) -> list[int]:
    """Lines that use ``ctx.state`` (or a name bound to it) as a string-keyed dict."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        aliases = _aliases(function)

        def is_state(node: ast.AST, aliases: set[str] = aliases) -> bool:
            return _is_ctx_state(node) or (isinstance(node, ast.Name) and node.id in aliases)

        for node in ast.walk(function):
            subscript = isinstance(node, ast.Subscript) and is_state(node.value)
            method = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _DICT_METHODS
                and is_state(node.func.value)
            )
            member = isinstance(node, ast.Compare) and any(
                isinstance(op, ast.In | ast.NotIn) and is_state(right)
                for op, right in zip(node.ops, node.comparators, strict=True)
            )
            if subscript or method or member:
                found.append(node.lineno)
    return sorted(set(found))


def _reads_state(tree: ast.Module) -> bool:
    return any(_is_ctx_state(node) for node in ast.walk(tree))


def _state_dataclass(tree: ast.Module) -> ast.ClassDef | None:
    for statement in tree.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "State":
            for decorator in statement.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) in ("dataclass", "dataclasses.dataclass"):
                    return statement
    return None


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / "rules"))


def test_the_folders_hold_rules_that_keep_state() -> None:
    # A wrong FOLDERS would make every test below pass on nothing.
    assert sum(_reads_state(ast.parse(path.read_text())) for path in MODULES) >= 30


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_no_string_keys_on_ctx_state(path: Path) -> None:
    lines = _dict_uses(ast.parse(path.read_text()))
    assert lines == [], f"{_id(path)} uses ctx.state as a dict on lines {lines}"


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_a_rule_that_reads_ctx_state_defines_a_state_dataclass(path: Path) -> None:
    tree = ast.parse(path.read_text())
    if not _reads_state(tree):
        return
    assert _state_dataclass(tree) is not None, f"{_id(path)} reads ctx.state but has no State"
    for rule in all_rules():
        if rule.module == _module_name(path):
            # What the engine hands the rule: a State of its own.
            state = fresh_state(rule)
            assert dataclasses.is_dataclass(state), f"{rule.code} is handed {state!r}"
            assert type(state).__name__ == "State"


@pytest.mark.parametrize("path", MODULES, ids=_id)
def test_functions_that_read_ctx_state_say_its_type(path: Path) -> None:
    untyped = []
    for function in ast.walk(ast.parse(path.read_text())):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not any(_is_ctx_state(node) for node in ast.walk(function)):
            continue
        arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        ctx = next((a for a in arguments if a.arg == "ctx"), None)
        if ctx is None or ctx.annotation is None or ast.unparse(ctx.annotation) != "Context[State]":
            untyped.append(f"{function.name}:{function.lineno}")
    assert untyped == [], f"{_id(path)}: ctx is not Context[State] in {untyped}"


def test_a_rule_without_state_gets_none() -> None:
    stateless = [rule for rule in all_rules() if rule.state is None]
    assert stateless
    assert all(fresh_state(rule) is None for rule in stateless)
