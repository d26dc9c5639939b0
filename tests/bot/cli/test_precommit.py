"""The pre-commit hooks, run as pre-commit runs them: `pre-commit try-repo` installs this
repository (the command line alone) into its own environment and runs the hook on a commit
being made in another repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ROOT
from tests.conftest import new_repo

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    if not PRE_COMMIT.exists() and shutil.which("pre-commit") is None:
        raise RuntimeError("pre-commit is missing: it comes with pip install -e '.[test]'")
    return tmp_path_factory.mktemp("pre-commit-home")


def try_hook(repo: Path, hook: str, home: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--color", "never", *extra]
    environment = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run(
        command, cwd=repo, env=environment, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def repo(tmp_path):
    repository = new_repo(tmp_path / "project")
    root = Path(repository.working_tree_dir)
    (root / "clean.py").write_text("import numpy as np\n\nmissing = np.isnan(values)\n")
    repository.git.add(A=True)
    repository.index.commit("start")
    return repository


def test_the_diff_hook_fails_on_the_debt_a_commit_adds_and_nothing_else(repo, pre_commit_home):
    root = Path(repo.working_tree_dir)
    (root / "clean.py").write_text(
        "import numpy as np\n\nmissing = np.isnan(values)\nbad = values == np.nan\n"
    )
    (root / "scratch.py").write_text("odd = values == float('nan')\n")  # not staged
    repo.git.add("clean.py")

    done = try_hook(root, "debtbot-diff", pre_commit_home)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "clean.py:4:" in done.stdout and "DEBT302" in done.stdout
    assert "scratch.py" not in done.stdout

    repo.git.reset("clean.py")
    (root / "clean.py").write_text("import numpy as np\n\nmissing = np.isnan(values)\n# ok\n")
    repo.git.add("clean.py")
    done = try_hook(root, "debtbot-diff", pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_the_check_hook_reports_every_finding_of_the_files_it_is_given(repo, pre_commit_home):
    root = Path(repo.working_tree_dir)
    (root / "old.py").write_text("import yaml\n\nCONFIG = yaml.load(open('c.yml'))\n")
    repo.git.add(A=True)
    repo.index.commit("old debt")

    done = try_hook(root, "debtbot", pre_commit_home, "--all-files")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "old.py:3:" in done.stdout and "DEBT401" in done.stdout
    assert "clean.py" not in done.stdout.split("- exit code: 1", 1)[1]
