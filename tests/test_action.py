"""The GitHub Action (action.yml), its shell steps run as a runner runs them: expressions
filled in from the inputs and the pull request event, the inputs handed over in the
environment, bash, $GITHUB_OUTPUT. The `uses:` steps (setup-python, upload-sarif) are GitHub's
own and only checked for what they are given."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import ROOT
from tests.conftest import commit_all, new_repo

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


def evaluate(text: str, inputs: dict[str, str], github: dict[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        return github[name]

    return EXPRESSION.sub(value, text)


def step(name: str) -> dict:
    (found,) = [s for s in ACTION["runs"]["steps"] if s.get("name") == name]
    return found


def run_step(found: dict, inputs, github, cwd: Path, path: str, output: Path):
    assert found["shell"] == "bash"
    environment = {k: evaluate(str(v), inputs, github) for k, v in found.get("env", {}).items()}
    environment |= {"PATH": path, "GITHUB_OUTPUT": str(output), "HOME": os.environ["HOME"]}
    # As the runner: bash --noprofile --norc -eo pipefail {0}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", found["run"]],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def runner_path(tmp_path_factory) -> str:
    """A fresh Python with debtbot installed by the action's own install step."""
    python = tmp_path_factory.mktemp("runner") / "python"
    subprocess.run([sys.executable, "-m", "venv", str(python)], check=True)
    path = f"{python / 'bin'}{os.pathsep}{os.environ['PATH']}"
    github = {"github.action_path": str(ROOT)}
    done = run_step(step("Install debtbot (the command line alone)"), {}, github, ROOT, path,
                    python / "out")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def pull_request(tmp_path):
    repo = new_repo(tmp_path / "checkout")
    root = Path(repo.working_tree_dir)
    (root / "train.py").write_text("import numpy as np\n\nmissing = np.isnan(values)\n")
    base = commit_all(repo, "base")
    (root / "train.py").write_text(
        "import numpy as np\n\nmissing = np.isnan(values)\nbad = values == np.nan\n"
    )
    commit_all(repo, "head")
    return root, base


def review(pull_request, runner_path, tmp_path, **given: str):
    root, base = pull_request
    github = {"github.event.pull_request.base.sha": base, "github.action_path": str(ROOT)}
    defaults = {k: evaluate(str(v.get("default", "")), {}, github)
                for k, v in ACTION["inputs"].items()}  # fmt: skip
    inputs = defaults | given
    output = tmp_path / "github_output"
    output.write_text("")
    done = run_step(step("Review the change"), inputs, github, root, runner_path, output)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done, outputs


def test_annotations_on_the_lines_the_pull_request_adds_and_a_failed_step(
    pull_request, runner_path, tmp_path
):
    done, outputs = review(pull_request, runner_path, tmp_path)
    assert done.returncode == 1
    assert "::error file=train.py,line=4," in done.stdout and "DEBT302" in done.stdout
    assert "line=3" not in done.stdout  # on the base already: not this pull request's doing
    assert outputs == {"exit-code": "1"}


def test_findings_need_not_fail_the_step(pull_request, runner_path, tmp_path):
    done, outputs = review(pull_request, runner_path, tmp_path, **{"fail-on-findings": "false"})
    assert done.returncode == 0
    assert outputs == {"exit-code": "1"}


def test_sarif_for_code_scanning(pull_request, runner_path, tmp_path):
    sarif = tmp_path / "out.sarif"
    done, outputs = review(
        pull_request, runner_path, tmp_path, format="sarif", **{"sarif-file": str(sarif)}
    )
    assert done.returncode == 1 and outputs == {"exit-code": "1"}
    report = json.loads(sarif.read_text())
    assert report["version"] == "2.1.0"
    (result,) = report["runs"][0]["results"]
    assert result["ruleId"] == "DEBT302"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 4
    upload = next(s for s in ACTION["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "inputs.format == 'sarif'" in upload["if"]


def test_extra_options_reach_debtbot_and_cannot_inject_shell(pull_request, runner_path, tmp_path):
    planted = tmp_path / "planted"
    done, outputs = review(
        pull_request, runner_path, tmp_path, args=f"--select DEBT4 ; touch {planted}"
    )
    # The words are options for debtbot, which refuses what it does not know; no shell ran.
    assert not planted.exists()
    assert done.returncode == 2 and outputs == {"exit-code": "2"}
    done, outputs = review(pull_request, runner_path, tmp_path, args="--select DEBT4")
    assert done.returncode == 0 and outputs == {"exit-code": "0"}


def test_without_a_base_the_step_says_what_to_do(pull_request, runner_path, tmp_path):
    done, _ = review(pull_request, runner_path, tmp_path, base="")
    assert done.returncode == 2
    assert "::error title=debtbot::no base revision" in done.stdout


def test_a_base_missing_from_a_shallow_checkout_is_a_clear_error(pull_request, runner_path,
                                                                tmp_path):  # fmt: skip
    done, _ = review(pull_request, runner_path, tmp_path, base="f" * 40)
    assert done.returncode == 2
    assert "fetch-depth: 0" in done.stdout
