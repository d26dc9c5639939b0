"""Which files a run sees and which configuration governs each: several paths from anywhere in
a repository, sub-projects with their own [tool.debtbot], and a diff with nothing to compare."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import commit_all, new_repo

DEBT = """
import numpy as np


def clean(frame):
    try:
        frame = frame.dropna()
    except Exception:
        pass
    return frame[frame == np.nan]
"""


def found(out: str) -> set[tuple[str, str]]:
    return {(f["path"], f["code"]) for f in json.loads(out)["findings"]}


def monorepo(write) -> None:
    write("pyproject.toml", "[tool.debtbot]\nignore = ['DEBT302']\n")
    write("services/api/pyproject.toml", "[project]\nname = 'api'\n")  # no table
    write("services/api/app.py", DEBT)
    write(
        "services/ml/pyproject.toml",
        "[tool.debtbot]\nexclude = ['legacy']\nper-file-ignores = { 'scripts/*' = ['DEBT301'] }\n",
    )
    write("services/ml/scripts/train.py", DEBT)
    write("services/ml/legacy/old.py", DEBT)
    write("services/ml/model.py", DEBT)


def test_several_paths_from_a_sub_folder_each_under_its_configuration(repo, write, debtbot) -> None:
    monorepo(write)
    root = Path(repo.working_tree_dir)
    code, out, err = debtbot(
        "check", "../../api", "..", "--format", "json", cwd=root / "services/ml/scripts"
    )
    assert code == 1, err
    assert found(out) == {
        ("../../api/app.py", "DEBT301"),  # the root's config: its pyproject.toml has no table
        ("train.py", "DEBT302"),  # the sub-project's per-file ignore
        ("../model.py", "DEBT301"),
        ("../model.py", "DEBT302"),  # the root's ignore is not inherited
    }


def test_paths_in_different_repositories(tmp_path, write, debtbot) -> None:
    new_repo(tmp_path / "one")
    new_repo(tmp_path / "two")
    write("one/a.py", DEBT)
    write("two/pyproject.toml", "[tool.debtbot]\nselect = ['DEBT302']\n")
    write("two/b.py", DEBT)
    code, out, _ = debtbot("check", "one", "two/b.py", "--format", "json", cwd=tmp_path)
    assert code == 1
    assert found(out) == {("one/a.py", "DEBT301"), ("one/a.py", "DEBT302"), ("two/b.py", "DEBT302")}


def test_a_check_and_a_diff_agree_in_a_sub_project(repo, write, debtbot) -> None:
    root = Path(repo.working_tree_dir)
    write("README.md", "start\n")
    commit_all(repo, "start")
    repo.git.checkout("-b", "feature")
    monorepo(write)
    commit_all(repo, "services")
    code, diff_out, _ = debtbot("diff", "--base", "main", "--format", "json", cwd=root / "services")
    _, check_out, _ = debtbot("check", "--format", "json")
    assert code == 1
    assert found(diff_out) == found(check_out)
    assert ("ml/legacy/old.py", "DEBT301") not in found(diff_out)
    fingerprints = {f["fingerprint"] for f in json.loads(check_out)["findings"]}
    assert {f["fingerprint"] for f in json.loads(diff_out)["findings"]} == fingerprints


def test_diff_says_plainly_that_base_and_head_are_one_commit(repo, write, debtbot) -> None:
    root = Path(repo.working_tree_dir)
    write("a.py", DEBT)
    commit_all(repo, "start")
    code, out, _ = debtbot("diff", cwd=root)
    assert code == 0
    assert "main and HEAD are the same commit" in out
    assert "the working tree changes no line" in out and "No debt found" not in out
    code, out, err = debtbot("diff", "--format", "json", "--head", "HEAD")
    assert code == 0 and json.loads(out)["findings"] == []
    assert "main and HEAD are the same commit" in err
    repo.git.checkout("-b", "feature")
    write("b.py", "x = 1\n")
    commit_all(repo, "more")
    code, out, _ = debtbot("diff", "--base", "feature", "--head", "main")
    assert code == 0 and "is already part of feature" in out
    write("a.py", DEBT + "\nvalue = 1\n")  # a change in the working tree: compared as usual
    code, out, _ = debtbot("diff", "--base", "feature")
    assert code == 0 and "No debt found in 1 file" in out


def test_fixing_flags_in_diff_need_the_working_tree(repo, write, debtbot) -> None:
    root = Path(repo.working_tree_dir)
    write("a.py", "x = 1\n")
    commit_all(repo, "start")
    repo.git.checkout("-b", "feature")
    write("a.py", "import yaml\n\nconfig = yaml.load(open('c.yaml'))\n")
    head = commit_all(repo, "debt")
    code, _, err = debtbot("diff", "--base", "main", "--head", head, "--fix", cwd=root)
    assert code == 2 and "leave out --head" in err
    code, _, err = debtbot("diff", "--base", "main", "--fix")
    assert code == 0 and "fixed 1 finding in 1 file; 0 findings left" in err
    assert (root / "a.py").read_text() == "import yaml\n\nconfig = yaml.safe_load(open('c.yaml'))\n"


def test_diff_with_a_named_configuration_and_selection(repo, write, debtbot) -> None:
    root = Path(repo.working_tree_dir)
    write("a.py", "x = 1\n")
    commit_all(repo, "start")
    repo.git.checkout("-b", "feature")
    monorepo(write)
    write("debtbot.toml", "select = ['DEBT302']\nexclude = ['services/api']\n")
    commit_all(repo, "services")
    code, out, _ = debtbot(
        "diff", "--base", "main", "--config", "debtbot.toml", "--format", "json", cwd=root
    )
    assert code == 1
    assert found(out) == {
        ("services/ml/scripts/train.py", "DEBT302"),
        ("services/ml/legacy/old.py", "DEBT302"),  # the sub-project's exclude is not read
        ("services/ml/model.py", "DEBT302"),
    }
    _, out, _ = debtbot("diff", "--base", "main", "--format", "json", "--extend-select", "DEBT302")
    assert ("services/api/app.py", "DEBT302") in found(out)
