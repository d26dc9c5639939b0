"""
What it does
------------
Flags a YAML file whose only content is a short flat mapping of Python-style names, such as
``batch_size: 64`` and ``data_dir: data/raw``: no nesting, no lists, no multi-line texts, from
2 to ``max-keys`` keys (option, default 15), every key a snake_case or UPPER_CASE identifier.

Keys in camelCase, kebab-case or with dots (``className``, ``fail-fast``,
``spark.driver.memory``) belong to some tool's schema, so such files are skipped, and so are the
files a tool or framework reads itself: CI definitions, conda environments, Kubernetes and Docker
Compose manifests, logging configurations, Hydra and OmegaConf configs and config trees, Kedro's
parameters, dot-files, files written during runs, and test fixtures. A file that follows the
repository's own convention is left alone too: when three or more YAML files share its name (a
``config.yaml`` per dataset, read by one loader), one more is not a finding.

Why is this bad?
----------------
A YAML file for a handful of flat settings is often added because "configuration goes in YAML",
without the reason that makes YAML worth it: deep structures, people who do not write Python, or
a framework that composes and overrides the files. For a few values read only by the project's
own Python code it costs more than it gives: a parsing step, string keys that no editor can
follow or rename, no types (see the YAML typing traps of ``DEBT402``), and typos that surface as a
``KeyError`` at run time instead of on import.

Example
-------
.. code-block:: yaml

    # settings.yaml
    batch_size: 64
    learning_rate: 0.001
    data_dir: data/raw

Use instead
-----------
.. code-block:: python

    # settings.py
    from dataclasses import dataclass
    from pathlib import Path


    @dataclass(frozen=True)
    class Settings:
        batch_size: int = 64
        learning_rate: float = 1e-3
        data_dir: Path = Path("data/raw")

References
----------
- The article behind debtbot, "The best practices trap" (the YAML example)
- Python documentation of ``dataclasses`` (``frozen=True``)
- pydantic-settings, for settings that must also come from the environment
"""

from __future__ import annotations

import re

import yaml

from rules import Context, Example, Rule
from rules.ml import files

RULE = Rule(
    code="DEBT403",
    name="flat-yaml-settings",
    principle="best-practices-trap",
    severity="info",
    message=(
        "Move these {count} flat settings into a Python module (constants or a frozen "
        "`dataclass`) instead of a YAML file that only adds a parsing step."
    ),
    files=("*.yaml", "*.yml"),
    options={"max-keys": 15},
    valid=(
        # Near miss: nested configuration, where YAML's structure earns its place.
        """
model:
  name: resnet50
  pretrained: true
optimizer:
  lr: 0.001
  betas: [0.9, 0.999]
""",
        # Near miss: a flat file that belongs to a tool.
        Example(
            """
version: 2
build_dir: _build
""",
            path=".readthedocs.yml",
        ),
        Example(
            """
channel: conda-forge
python: "3.11"
""",
            path="environment.yml",
        ),
        # Near miss: a Hydra config group, composed and overridden from the command line.
        Example(
            """
_target_: torch.optim.Adam
lr: 0.001
weight_decay: 0.0
""",
            path="configs/optimizer/adam.yaml",
        ),
        Example(
            """
ignore_warnings: false
print_config: true
""",
            path="configs/extras/default.yaml",
            files=("configs/train.yaml", "configs/model/mnist.yaml", "configs/data/mnist.yaml"),
        ),
        # Near miss: a tool's metadata file, recognisable by its camelCase keys.
        Example(
            """
algoType: tuner
builtinName: demotuner
className: demo_tuner.DemoTuner
""",
            path="examples/tuners/customized_tuner/meta_file.yml",
        ),
        # Near miss: texts kept in YAML (prompts, templates) are not settings.
        Example(
            """
system: |
  You answer questions about the product catalogue.
user: "Question: {question}"
""",
            path="prompts.yml",
        ),
        # Near miss: more keys than the threshold (default 15).
        "\n".join(f"key_{i}: {i}" for i in range(16)),
        # Near miss: DVC parameters, tracked by `dvc.yaml`.
        Example("seed: 42\nsplit: 0.2\n", path="params.yaml", files=("dvc.yaml",)),
        # Near miss: the repository's convention, a config.yaml per dataset read by one loader.
        Example(
            "name: cifar10\nnum_classes: 10\n",
            path="datasets/cifar10/config.yaml",
            files=("datasets/mnist/config.yaml", "datasets/svhn/config.yaml"),
        ),
        # Near miss: an Azure Pipelines definition, known by its keys wherever it lives.
        Example("trigger: none\npr: none\n", path="ci/nightly.yml"),
    ),
    invalid=(
        Example(
            """
# Training settings
batch_size: 64
learning_rate: 0.001
data_dir: data/raw
""",
            path="settings.yaml",
            line=1,
        ),
        Example(
            """
model_path: models/model.pkl
threshold: 0.5
""",
            path="src/churn/config.yml",
            line=1,
        ),
    ),
)

_HYDRA_KEYS = frozenset({"_target_", "defaults", "_partial_", "_recursive_", "_convert_"})
_PYTHON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[a-z][A-Z]")


def check(ctx: Context) -> None:
    if ctx.is_test or files.kind_by_path(ctx.path, ctx.files) is not None:
        return
    if files.conventional(ctx.path, ctx.files):
        return  # one more of the repository's many files of this name: its own convention
    documents = ctx.yaml_documents()
    if len(documents) != 1 or not isinstance(documents[0], yaml.MappingNode):
        return
    pairs = documents[0].value
    if not 2 <= len(pairs) <= ctx.options["max-keys"]:
        return
    for key, value in pairs:
        if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
            return
        if value.style in ("|", ">") or "\n" in value.value:
            return  # texts such as prompts or templates, not settings
        if key.value in _HYDRA_KEYS or "${" in value.value:
            return
        if not _PYTHON_NAME.fullmatch(key.value) or _CAMEL.search(key.value):
            return  # `className`, `spark.driver.memory`, `fail-fast`: a tool's schema
    if files.yaml_kind(ctx.path, ctx.text, documents, ctx.files) is not None:
        return
    ctx.report_line(1, count=len(pairs))
