"""Whole-project checks: a project with one piece of each kind of debt, and a clean one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bot.cli.main import main
from rules import all_rules
from rules.principles import PRINCIPLES
from tests import TESTS

FIXTURES = TESTS / "fixtures"


def check_copy(name: str, tmp_path: Path, monkeypatch, capsys) -> tuple[int, dict]:
    # A copy, so that the fixture is not seen as living under tests/ and is its own project.
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project)
    # Every rule, also those the held-out study turned off: the fixtures exercise them all.
    off = [r.code for r in all_rules() if not r.default_enabled]
    (project / "pyproject.toml").write_text(
        f"[project]\nname = 'fixture'\n\n[tool.debtbot]\nselect = {['DEBT', *off]!r}\n"
    )
    monkeypatch.chdir(project)
    code = main(["check", "--format", "json", "--no-progress"])
    return code, json.loads(capsys.readouterr().out)


def test_one_example_of_each_principle_is_found(tmp_path, monkeypatch, capsys) -> None:
    code, report = check_copy("debt_project", tmp_path, monkeypatch, capsys)
    assert code == 1
    assert report["skipped"] == []
    assert {f["principle"] for f in report["findings"]} == set(PRINCIPLES)


def test_clean_idiomatic_module_reports_nothing(tmp_path, monkeypatch, capsys) -> None:
    code, report = check_copy("clean_project", tmp_path, monkeypatch, capsys)
    assert report["findings"] == []
    assert code == 0
    assert report["stats"]["files"] == 4  # churn/*.py, requirements.txt, pyproject.toml
