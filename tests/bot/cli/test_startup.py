"""The command line starts without importing what the run does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = """
import json, sys
from bot.cli.main import main
code = main(["check", sys.argv[1], "--no-cache", "--format", "json", "--no-progress"])
heavy = ["pydantic", "fastapi", "sqlalchemy", "celery", "github", "plotly", "httpx"]
print(json.dumps({"code": code, "imported": [m for m in heavy if m in sys.modules]}))
"""


def run_check(folder: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_repository_without_a_table_is_checked_without_pydantic(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("import numpy as np\n\nnp.random.seed(0)\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    assert run_check(tmp_path) == {"code": 0, "imported": []}


def test_a_table_is_still_validated(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text("[tool.debtbot]\nmax-file-size = -1\n")

    result = run_check(tmp_path)

    assert result["code"] == 2 and result["imported"] == ["pydantic"]
