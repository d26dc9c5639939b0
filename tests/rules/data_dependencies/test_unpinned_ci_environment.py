"""DEBT711 unpinned_ci_environment: CI files read through the engine."""

from __future__ import annotations

from rules.catalogue import rules_by_code
from rules.engine.config import parse_config
from tests.conftest import rule_findings

_CONFIG = parse_config({"select": ["DEBT711"]})


def found(text: str, path: str = ".github/workflows/ci.yml"):
    return [(f.line, f.message) for f in rule_findings("DEBT711", text, path, config=_CONFIG)]


def test_711_is_off_by_default_and_says_why() -> None:
    rule = rules_by_code()["DEBT711"]
    assert not rule.default_enabled and rule.disabled_because


def test_711_names_every_unpinned_package_of_an_install_but_not_the_tools() -> None:
    [(line, message)] = found(
        """
        on: [push]
        jobs:
          e2e:
            runs-on: ubuntu-latest
            steps:
              - run: |
                  python -m pip install --upgrade pip
                  pip install flytekit flytekitplugins-deck-standard pytest flake8 twine
        """
    )
    assert line == 8
    assert "`flytekit` and `flytekitplugins-deck-standard` to versions" in message
    assert "pytest" not in message


def test_711_requirements_constraints_and_variables_are_left_alone() -> None:
    assert not found(
        """
        on: [push]
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: pip install -r requirements.txt torch
              - run: pip install -qr requirements.txt onnx
              - run: pip install -c constraints.txt pandas scikit-learn
              - run: pip install "torch${{ matrix.torch-spec }}" $EXTRA
              - run: sudo $CONDA/bin/python -m pip install -e .
              - run: conda env create -f environment.yml
        """
    )


def test_711_images_by_key_and_on_the_command_line() -> None:
    lines = [
        line
        for line, _ in found(
            """
            image: python
            services:
              - postgres:latest
              - docker:dind
            deploy:
              image: registry.example.com:5000/team/scorer:gpu-latest
              script:
                - docker run --rm -v $PWD:/w pytorch/pytorch:latest python train.py
                - docker pull mlflow/mlflow:2.14.1
                - docker build -t scorer:latest . && docker push scorer:latest
            """,
            path=".gitlab-ci.yml",
        )
    ]
    assert lines == [1, 3, 6, 8]


def test_711_runner_labels_are_not_images() -> None:
    assert not found(
        """
        jobs:
        - job: build
          pool:
            vmImage: ubuntu-latest
          steps:
          - script: echo building
        """,
        path="azure-pipelines.yml",
    )


def test_711_azure_task_inline_script() -> None:
    [(line, message)] = found(
        """
        steps:
        - task: AzureCLI@2
          inputs:
            scriptType: bash
            inlineScript: |
              az extension add -n ml
              pip install azure-ai-ml
        """,
        path="azure-pipelines/deploy.yml",
    )
    assert line == 7 and "`azure-ai-ml`" in message
