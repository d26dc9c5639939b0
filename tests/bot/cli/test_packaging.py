"""`pip install debtbot` is the command line alone; the App's dependencies come with `[app]`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib

from bot.cli.main import APP_ONLY_MODULES
from tests import ROOT

# Imports of the App's dependencies fail in the child process, as in an install without them.
WITHOUT_THE_APP = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = {blocked!r}

    class Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Absent())
    from bot.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
).format(blocked=sorted(APP_ONLY_MODULES))


def run_without_the_app(*argv: str, cwd) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_APP, *argv],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_needs_none_of_the_app_dependencies(tmp_path):
    (tmp_path / "train.py").write_text("import numpy as np\n\nok = values == np.nan\n")
    done = run_without_the_app("check", "--no-cache", "train.py", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "DEBT302" in done.stdout


def test_the_app_commands_name_the_extra_they_need(tmp_path):
    for command in (["serve"], ["summary", "--org", "acme", "--database-url", "sqlite://"]):
        done = run_without_the_app(*command, cwd=tmp_path)
        assert done.returncode == 2
        assert "pip install 'debtbot[app]'" in done.stderr
        assert "Traceback" not in done.stderr


def test_the_app_dependencies_are_an_extra_and_the_tests_install_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {r.split("[")[0].split(">")[0].split("=")[0].strip().lower() for r in requirements}

    cli, app = names(project["dependencies"]), names(project["optional-dependencies"]["app"])
    assert {"libcst", "gitpython", "pyyaml", "pydantic"} <= cli
    assert {"pygithub", "fastapi", "uvicorn", "sqlalchemy", "pydantic-settings"} <= app
    assert not cli & app
    assert "debtbot[app]" in project["optional-dependencies"]["test"]
