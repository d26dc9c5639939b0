"""``--jobs``: files analysed by several processes give the same findings, in the same order,
as one process, for ``check`` and ``diff``, with the facts cache cold and warm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.conftest import commit_all, new_repo

THRESHOLD = "def decide{n}(proba):\n    return proba > 0.{n}7\n"
LOADER = (
    "import yaml\n\n\ndef load{n}(path):\n    with open(path) as f:\n        return yaml.load(f)\n"
)
SHARED = """\
from abc import ABC, abstractmethod


class Step{n}(ABC):
    @abstractmethod
    def run(self, frame):
        ...


class OnlyStep{n}(Step{n}):
    def run(self, frame):
        return frame
"""


def make_project(root: Path, files: int = 40) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    for n in range(files):
        text = (THRESHOLD, LOADER, SHARED, "VALUE_{n} = {n}\n")[n % 4].format(n=n)
        (root / "pkg" / f"m{n:02d}.py").write_text(text)
    (root / "tests").mkdir()
    (root / "tests" / "test_m00.py").write_text("from pkg.m00 import decide0\n")


def findings(capsys, *args: str) -> dict:
    status = main([*args, "--format", "json", "--no-progress"])
    body = json.loads(capsys.readouterr().out)
    body["stats"].pop("seconds")
    return {"status": status, **body}


@pytest.mark.parametrize("cache", ["--no-cache", None])
def test_check_finds_the_same_whatever_the_number_of_processes(
    tmp_path: Path, capsys, monkeypatch, cache
) -> None:
    make_project(tmp_path / "project")
    monkeypatch.setenv("DEBTBOT_CACHE_DIR", str(tmp_path / "cache"))
    extra = [cache] if cache else []
    one = findings(capsys, "check", str(tmp_path / "project"), "--jobs", "1", *extra)
    assert one["stats"]["files"] == 42 and len(one["findings"]) >= 20
    for jobs in ("2", "3"):
        assert findings(capsys, "check", str(tmp_path / "project"), "--jobs", jobs, *extra) == one


def test_diff_finds_the_same_whatever_the_number_of_processes(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("DEBTBOT_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    repo = new_repo(root)
    make_project(root)
    commit_all(repo, "base")
    repo.git.checkout("-b", "feature")
    for n in range(40, 60):
        (root / "pkg" / f"m{n:02d}.py").write_text(THRESHOLD.format(n=n))
    commit_all(repo, "more thresholds")
    arguments = ["diff", "--repo", str(root), "--base", "main", "--head", "feature", "--no-cache"]
    one = findings(capsys, *arguments, "--jobs", "1")
    assert len(one["findings"]) == 20
    assert findings(capsys, *arguments, "--jobs", "2") == one


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_jobs_must_be_a_positive_whole_number(capsys, value) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["check", ".", "--jobs", value])
    assert stopped.value.code == 2
    assert "--jobs" in capsys.readouterr().err
