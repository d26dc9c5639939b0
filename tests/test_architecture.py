"""The layout holds: no import cycles, the rules never reach for the App, rules are typed."""

from __future__ import annotations

import ast
import subprocess
import sys

from importlinter.cli import lint_imports

from rules.catalogue import all_rules
from tests import ROOT


def test_the_import_contracts_of_pyproject_hold(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename="pyproject.toml", cache_dir=str(tmp_path)) == 0


def test_importing_any_rule_imports_nothing_of_the_app() -> None:
    modules = [rule.module for rule in all_rules()]
    program = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'bot' or m.startswith('bot.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_every_ctx_parameter_of_the_rules_is_typed() -> None:
    untyped = []
    for path in sorted((ROOT / "rules").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
                    if arg.arg == "ctx" and arg.annotation is None:
                        untyped.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert untyped == []
