"""
What it does
------------
Flags a YAML file whose only content is a short flat mapping of Python-style names, such as
``batch_size: 64`` and ``data_dir: data/raw``: no nesting, no lists, no multi-line texts, from
2 to ``max-keys`` keys (option, default 15), every key a snake_case or UPPER_CASE identifier.

Keys in camelCase, kebab-case or with dots (``className``, ``fail-fast``,
``spark.driver.memory``) belong to some tool's schema, so such files are skipped, and so are
other files that belong to a tool or framework reading YAML itself: dot-files and files
in dot-directories (``.github/``, ``.pre-commit-config.yaml``...), CI, packaging and deployment
files (``docker-compose.yml``, ``mkdocs.yml``, ``environment.yml``, ``meta.yaml``,
``Chart.yaml``, ``codecov.yml``...), Kubernetes manifests, files written during runs
(``outputs/``, ``mlruns/``, ``lightning_logs/``, ``hparams.yaml``), Hydra/OmegaConf configs
(``_target_``, ``defaults``, ``${...}`` interpolation, ``# @package``, or a config tree with
several groups), Kedro's ``conf/`` parameters, DVC's ``params.yaml`` next to a ``dvc.yaml``, and
test fixtures.

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

import fnmatch
import posixpath
import re

import yaml

from rules import Context, Example, Rule

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

# Files read by tools, matched against the lower-cased file name.
_TOOL_FILES = (
    "docker-compose*",
    "compose.y*ml",
    "mkdocs.y*ml",
    "environment*.y*ml",
    "conda*.y*ml",
    "python_env.y*ml",
    "meta.y*ml",
    "conda_build_config.y*ml",
    "readthedocs.y*ml",
    "codecov.y*ml",
    "chart.y*ml",
    "values*.y*ml",
    "requirements.y*ml",
    "kustomization.y*ml",
    "app.y*ml",
    "serverless.y*ml",
    "_config.y*ml",
    "_toc.y*ml",
    "_quarto.y*ml",
    "azure-pipelines*.y*ml",
    "bitbucket-pipelines.y*ml",
    "appveyor.y*ml",
    "cloudbuild*.y*ml",
    "buildspec*.y*ml",
    "dependabot.y*ml",
    "action.y*ml",
    "dvc.y*ml",
    "mlproject*",
    "pubspec.y*ml",
    "hparams.y*ml",
    "citation*",
    "openapi*",
    "swagger*",
)
# Folders whose YAML files are read by a tool (CI, deployment, translations), anywhere in a path.
_TOOL_DIRS = frozenset(
    {
        "k8s", "kubernetes", "helm", "charts", "manifests", "locales", "locale", "i18n",
        "translations",
        # Written by tools during runs, not settings someone maintains.
        "outputs", "multirun", "mlruns", "lightning_logs", "wandb",
    }
)  # fmt: skip
_HYDRA_KEYS = frozenset({"_target_", "defaults", "_partial_", "_recursive_", "_convert_"})
_CONFIG_ROOTS = frozenset({"conf", "config", "configs", "cfg", "cfgs"})
_PACKAGE_DIRECTIVE = re.compile(r"^\s*#\s*@package\b", re.MULTILINE)
_YAML = re.compile(r"\.ya?ml$", re.IGNORECASE)
_PYTHON_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[a-z][A-Z]")


def _tool_file(path: str, files) -> bool:
    parts = path.split("/")
    name = parts[-1].lower()
    if any(part.startswith(".") for part in parts):
        return True
    if any(part.lower() in _TOOL_DIRS for part in parts[:-1]):
        return True
    if any(fnmatch.fnmatch(name, pattern) for pattern in _TOOL_FILES):
        return True
    if fnmatch.fnmatch(name, "params.y*ml"):  # DVC parameters
        folder = posixpath.dirname(path)
        return any(posixpath.join(folder, n) in files for n in ("dvc.yaml", "dvc.yml"))
    return False


def _framework_tree(path: str, files) -> bool:
    """A file in a composed config tree (Hydra groups, Kedro environments), not a lone file."""
    parts = path.split("/")
    for index, part in enumerate(parts[:-2]):
        if part.lower() not in _CONFIG_ROOTS:
            continue
        if part.lower() == "conf" and parts[-1].lower().startswith("parameters"):
            return True  # Kedro: conf/<env>/parameters*.yml
        root = "/".join(parts[: index + 1]) + "/"
        below = [f[len(root) :] for f in files if f.startswith(root) and _YAML.search(f)]
        groups = {relative.split("/", 1)[0] for relative in below if "/" in relative}
        primary = any("/" not in relative for relative in below)
        if len(groups) >= 2 or (groups and primary):
            return True
    return False


def check(ctx: Context) -> None:
    if ctx.is_test or _tool_file(ctx.path, ctx.files):
        return
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
    if _PACKAGE_DIRECTIVE.search(ctx.text) or _framework_tree(ctx.path, ctx.files):
        return
    ctx.report_line(1, count=len(pairs))
