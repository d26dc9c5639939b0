"""Who reads a YAML file: the kinds rules/ml/files.py tells apart, by path and by content."""

from __future__ import annotations

import textwrap

import pytest

from rules.ml import files
from rules.readers import compose_yaml


def kind(path: str, text: str, others: tuple[str, ...] = ()) -> str | None:
    text = textwrap.dedent(text).lstrip("\n")
    return files.yaml_kind(path, text, compose_yaml(text), {path, *others})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (".github/workflows/ci.yml", "ci"),
        ("azure-pipelines.yml", "ci"),
        (".gitlab-ci.yml", "ci"),
        ("environment.yml", "conda"),
        ("docker-compose.override.yml", "compose"),
        ("deploy/k8s/service.yaml", "kubernetes"),
        ("mkdocs.yml", "tool"),
        ("outputs/2024-01-01/.hydra/config.yaml", "run-output"),
        ("lightning_logs/version_0/hparams.yaml", "run-output"),
        ("configs/train.yaml", None),
    ],
)
def test_kinds_the_path_tells(path: str, expected: str | None) -> None:
    assert files.kind_by_path(path, {path}) == expected


def test_kinds_the_content_tells_wherever_the_file_lives() -> None:
    assert kind("ops/job.yml", "apiVersion: batch/v1\nkind: Job\n") == "kubernetes"
    assert kind("env/train.yml", "name: t\nchannels: [conda-forge]\ndependencies: [pip]\n") == (
        "conda"
    )
    assert kind("run/stack.yml", "version: '3'\nservices:\n  db:\n    image: postgres\n") == (
        "compose"
    )
    assert kind("conf/log.yml", "version: 1\nhandlers:\n  console: {}\n") == "logging"
    assert kind("ci/steps.yml", "steps:\n  - script: make\n") == "ci"
    assert kind("ci/t.yml", "steps:\n  - script: echo ${{ parameters.env }}\n") == "ci"
    template = """
        parameters:
          - name: environment
            type: string
        jobs: []
        """
    assert kind("build/stages.yml", template) == "ci"
    assert kind("exp/model.yaml", "model:\n  _target_: torch.nn.Linear\n") == "framework"
    assert kind("exp/run.yaml", "lr: 0.1\nout: ${hydra:runtime.cwd}/out\n") == "framework"
    assert kind("settings.yaml", "batch_size: 64\nepochs: 3\n") is None


def test_a_config_tree_of_several_groups_is_a_framework_tree() -> None:
    tree = {"conf/config.yaml", "conf/model/resnet.yaml", "conf/data/cifar.yaml"}
    assert files.kind_by_path("conf/model/resnet.yaml", tree) == "framework"
    assert files.kind_by_path("conf/data/cifar.yaml", tree) == "framework"
    # The primary file is known by its `defaults:` list, not by where it lies.
    assert files.kind_by_path("conf/config.yaml", tree) is None
    assert kind("conf/config.yaml", "defaults:\n  - model: resnet\n") == "framework"


def test_many_files_of_one_name_are_the_repository_convention() -> None:
    registry = {f"datasets/{name}/config.yaml" for name in ("a", "b", "c")}
    assert files.conventional("datasets/a/config.yaml", registry)
    assert not files.conventional("datasets/a/config.yaml", set(list(registry)[:2]))
