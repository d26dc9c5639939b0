"""DEBT318 non_blocking_check: CI files read through the engine, and the change path the CLI
takes (only the lines a change adds)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli.main import main
from rules.engine.config import parse_config
from tests.conftest import commit_all, rule_findings

_CONFIG = parse_config({"select": ["DEBT318"]})  # off by default: selected by its code


def found(text: str, path: str = ".github/workflows/ci.yml"):
    return [(f.line, f.message) for f in rule_findings("DEBT318", text, path, config=_CONFIG)]


def test_318_names_the_tool_and_how_it_is_silenced() -> None:
    [(line, message)] = found(
        """
        on: [push]
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  pip install -r requirements.txt
                  poetry run pylint src --exit-zero
        """
    )
    assert line == 8
    assert "`pylint`" in message and "`--exit-zero`" in message


def test_318_sees_through_wrappers_and_chains() -> None:
    lines = [
        line
        for line, _ in found(
            """
            on: [push]
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - run: coverage run -m pytest tests && coverage xml || exit 0
                  - run: make lint || echo "lint failed"
                  - run: black --check . || true
                  - run: black . || true
                  - run: pytest tests; true
            """
        )
    ]
    # A formatter that rewrites files is no check; `; true` is left alone, as GitHub runs
    # `bash -e` and the step still stops at a failing pytest.
    assert lines == [6, 7, 8]


def test_318_warm_up_run_before_the_gate_is_left_alone() -> None:
    assert not found(
        """
        on: [push]
        jobs:
          lint:
            runs-on: ubuntu-latest
            steps:
              - name: Check with mypy
                run: |
                  mypy qlib --install-types --non-interactive || true
                  mypy qlib --verbose
        """
    )


def test_318_azure_step_and_job_flags() -> None:
    lines = [
        line
        for line, _ in found(
            """
            jobs:
            - job: tests
              continueOnError: true
              steps:
              - script: python -m pytest tests/unit
              - bash: conda env remove -n ci -y
                continueOnError: true
            """,
            path="ci/templates/tests.yml",
        )
    ]
    assert lines == [3]


def test_318_azure_results_published_with_failure_are_a_gate() -> None:
    assert not found(
        """
        steps:
        - script: pytest tests --junitxml=reports/test-unit.xml || true
        - task: PublishTestResults@2
          inputs:
            testResultsFiles: 'reports/test-*.xml'
            failTaskOnFailedTests: true
        """,
        path="azure-pipelines.yml",
    )


def test_318_a_nightly_workflow_is_not_a_reason_but_a_nightly_job_is() -> None:
    text = """
        name: nightly
        on:
          schedule:
            - cron: '0 0 * * *'
        jobs:
          JOB:
            runs-on: ubuntu-latest
            steps:
              - run: tox -e flake8
                continue-on-error: true
        """
    assert [line for line, _ in found(text.replace("JOB", "static-analysis"))] == [10]
    assert not found(text.replace("JOB", "test-nightly-torch"))


def test_318_gitlab_included_file() -> None:
    [(line, message)] = found(
        """
        lint:
          script:
            - ruff check . --exit-zero
        """,
        path=".gitlab/ci/lint.gitlab-ci.yml",
    )
    assert line == 3 and "`ruff`" in message


def _run(capsys, *argv: str):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_318_a_change_is_blamed_only_for_the_lines_it_adds(repo, write, capsys) -> None:
    root = Path(repo.working_tree_dir)
    write("pyproject.toml", "[tool.debtbot]\nselect = ['DEBT318']\n")
    template = """
        jobs:
        - job: run_unit_tests
          steps:
          - script: |
              flake8 --format junit-xml --output-file=flake8.xml{flake8}
            displayName: Flake8
          - script: |
              pylint src/ --exit-zero > pylint.xml
            displayName: Pylint
        """
    path = "azure-pipelines/templates/run-code-tests.template.yml"
    write(path, template.format(flake8=""))
    commit_all(repo, "pylint reports only")
    repo.git.checkout("-b", "feature")
    write(path, template.format(flake8=" --exit-zero"))
    head = commit_all(repo, "flake8 too")
    code, out = _run(
        capsys, "diff", "--repo", str(root), "--base", "main", "--head", head, "--format", "json"
    )
    # Paths come out relative to the current folder.
    findings = [
        (f["code"], f["path"].endswith(path), f["line"]) for f in json.loads(out)["findings"]
    ]
    assert code == 1
    assert findings == [("DEBT318", True, 5)]
