"""rules/ml/ci.py: the commands of a CI definition, and the programs they run."""

from __future__ import annotations

import textwrap

import pytest

from rules.ml import ci
from rules.ml.files import ci_definition
from rules.readers import compose_yaml


def commands(text: str) -> list[tuple[int, int, str]]:
    documents = compose_yaml(textwrap.dedent(text).lstrip("\n"))
    return [(c.line, c.end_line, c.text) for c in ci.commands(documents)]


def test_block_scalars_keep_their_lines_and_join_continuations() -> None:
    assert commands(
        """
        jobs:
          test:
            steps:
              - run: |
                  pip install \\
                    -r requirements.txt
                  # a comment
                  pytest -x
              - run: echo done
        """
    ) == [
        (5, 6, "pip install -r requirements.txt"),
        (8, 8, "pytest -x"),
        (9, 9, "echo done"),
    ]


def test_gitlab_script_lists_and_azure_task_inputs() -> None:
    documents = compose_yaml(
        textwrap.dedent(
            """
            test:
              script:
                - pytest
            deploy:
              steps:
              - task: AzureCLI@2
                inputs:
                  inlineScript: az ml job create -f job.yml
            """
        )
    )
    found = ci.commands(documents)
    assert [c.text for c in found] == ["pytest", "az ml job create -f job.yml"]
    assert ci.mapping_value(found[1].step, "task") == ("AzureCLI@2", 7)


@pytest.mark.parametrize(
    ("line", "tool"),
    [
        ("python -m pytest tests", "pytest"),
        ("poetry run mypy src", "mypy"),
        ("coverage run -m pytest", "pytest"),
        ("conda run -n ci flake8 .", "flake8"),
        ("CUDA_VISIBLE_DEVICES= pytest", "pytest"),
        ("black --check .", "black"),
        ("black .", None),
        ("make test", "make test"),
        ("make docs", None),
        ("python train.py", None),
    ],
)
def test_check_tool(line: str, tool: str | None) -> None:
    assert ci.check_tool(ci.shell_words(line)) == tool


def test_a_pipelines_folder_is_ci_only_when_its_content_says_so() -> None:
    workflow = "trigger:\n- main\nsteps:\n- script: pytest\n"
    settings = "steps:\n  trainer:\n    epochs: 3\n"
    files = {"pipelines/ci.yml", "pipelines/training.yml"}
    assert ci_definition("pipelines/ci.yml", workflow, compose_yaml(workflow), files)
    assert not ci_definition("pipelines/training.yml", settings, compose_yaml(settings), files)
