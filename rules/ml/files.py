"""What kind of file a YAML file is, and so who reads it.

A YAML file read by a tool (a CI service, conda, Kubernetes, Docker Compose, logging's
``dictConfig``) or composed by a framework (Hydra, OmegaConf, Kedro) answers to that reader's
schema: its keys are not the project's settings, and judging them as such is wrong. Rules ask here
before they judge a YAML file, instead of keeping exemptions of their own.

The kinds, from the path alone (:func:`kind_by_path`) or from the path and the parsed document
(:func:`yaml_kind`):

- ``ci``: GitHub Actions, Azure Pipelines (templates too), GitLab CI, other CI services;
- ``conda``: environment files (``dependencies``, ``channels``);
- ``kubernetes``: manifests (``apiVersion`` and ``kind``), Helm charts;
- ``compose``: Docker Compose files;
- ``logging``: ``logging.config.dictConfig`` files;
- ``framework``: Hydra and OmegaConf configs (``_target_``, ``defaults``, ``${...}``), config
  trees of several groups, Kedro's parameters;
- ``tool``: other tools' files (documentation sites, packaging, CloudFormation templates, dot-files,
  dot-folders);
- ``run-output``: written by tools during runs (``outputs/``, ``mlruns/``, ``hparams.yaml``).
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import Counter
from collections.abc import Collection

import yaml

# Files read by tools, matched against the lower-cased file name.
_TOOL_FILES = (
    "mkdocs.y*ml",
    "python_env.y*ml",
    "meta.y*ml",
    "conda_build_config.y*ml",
    "readthedocs.y*ml",
    "codecov.y*ml",
    "requirements.y*ml",
    "app.y*ml",
    "serverless.y*ml",
    "_config.y*ml",
    "_toc.y*ml",
    "_quarto.y*ml",
    "dependabot.y*ml",
    "action.y*ml",
    "dvc.y*ml",
    "mlproject*",
    "pubspec.y*ml",
    "citation*",
    "openapi*",
    "swagger*",
    "template.y*ml",  # AWS SAM and CloudFormation
    "*.cfn.y*ml",
    "cdk.json",
)
_CI_FILES = (
    "azure-pipelines*.y*ml",
    "bitbucket-pipelines.y*ml",
    "appveyor.y*ml",
    "cloudbuild*.y*ml",
    "buildspec*.y*ml",
    ".gitlab-ci.y*ml",
    "*.gitlab-ci.y*ml",
    ".travis.y*ml",
)
_CONDA_FILES = ("environment*.y*ml", "conda*.y*ml", "env.y*ml")
_COMPOSE_FILES = ("docker-compose*", "compose.y*ml")
_KUBERNETES_FILES = ("chart.y*ml", "values*.y*ml", "kustomization.y*ml")
# Folders whose YAML files are read by a tool, anywhere in a path.
_CI_DIRS = frozenset(
    {".github", ".gitlab", ".azure-pipelines", ".azuredevops", ".circleci", "pipelines"}
)
_KUBERNETES_DIRS = frozenset({"k8s", "kubernetes", "helm", "charts", "manifests", "kustomize"})
_TOOL_DIRS = frozenset({"locales", "locale", "i18n", "translations"})
_RUN_OUTPUT_DIRS = frozenset({"outputs", "multirun", "mlruns", "lightning_logs", "wandb"})
_RUN_OUTPUT_FILES = ("hparams.y*ml",)
_CONFIG_ROOTS = frozenset({"conf", "config", "configs", "cfg", "cfgs"})
_YAML = re.compile(r"\.ya?ml$", re.IGNORECASE)

# Names that, in the code naming a YAML file, mean a library reads the whole file: argument
# parsers that fill dataclasses, configuration frameworks, logging, platform SDKs. Its keys are
# then that library's fields, read without the project's code naming them.
WHOLE_FILE_READERS = frozenset(
    {"HfArgumentParser", "parse_yaml_file", "simple_parsing", "jsonargparse", "LightningCLI",
     "OmegaConf", "hydra", "dictConfig", "from_conda_specification", "from_yaml_file",
     "BaseSettings", "YamlConfigSettingsSource"}
)  # fmt: skip

_HYDRA_KEYS = frozenset({"_target_", "defaults", "_partial_", "_recursive_", "_convert_"})
_PACKAGE_DIRECTIVE = re.compile(r"^\s*#\s*@package\b", re.MULTILINE)
_CI_KEYS = frozenset({"jobs", "steps", "stages", "pool", "trigger", "pr", "workflow_dispatch"})
_LOGGING_KEYS = frozenset({"handlers", "formatters", "loggers", "root", "filters"})


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def kind_by_path(path: str, files: Collection[str]) -> str | None:
    """The kind a YAML file's path alone tells; None when only its content can."""
    parts = path.split("/")
    name, folders = parts[-1].lower(), [part.lower() for part in parts[:-1]]
    if any(folder in _RUN_OUTPUT_DIRS for folder in folders) or _matches(name, _RUN_OUTPUT_FILES):
        return "run-output"
    if any(folder in _CI_DIRS for folder in folders) or _matches(name, _CI_FILES):
        return "ci"
    if _matches(name, _CONDA_FILES):
        return "conda"
    if _matches(name, _COMPOSE_FILES):
        return "compose"
    if any(folder in _KUBERNETES_DIRS for folder in folders) or _matches(name, _KUBERNETES_FILES):
        return "kubernetes"
    if any(part.startswith(".") for part in parts) or any(f in _TOOL_DIRS for f in folders):
        return "tool"
    if _matches(name, _TOOL_FILES):
        return "tool"
    if fnmatch.fnmatch(name, "params.y*ml"):  # DVC's parameters, beside its pipeline
        folder = posixpath.dirname(path)
        if any(posixpath.join(folder, n) in files for n in ("dvc.yaml", "dvc.yml")):
            return "tool"
    if framework_tree(path, files):
        return "framework"
    return None


def yaml_kind(
    path: str, text: str, documents: list[yaml.Node], files: Collection[str]
) -> str | None:
    """Who reads the YAML file, when it is not plainly the project's own code: one of the
    kinds of this module's docstring, or None."""
    by_path = kind_by_path(path, files)
    if by_path is not None:
        return by_path
    if "${{" in text:  # Azure Pipelines and GitHub Actions template expressions
        return "ci"
    if _PACKAGE_DIRECTIVE.search(text):
        return "framework"
    keys = set().union(*(_top_keys(document) for document in documents)) if documents else set()
    if {"apiVersion", "kind"} <= keys:
        return "kubernetes"
    if "AWSTemplateFormatVersion" in keys or ("Resources" in keys and "AWS::" in text):
        return "tool"  # a CloudFormation template, deployed by AWS
    if "dependencies" in keys and keys & {"channels", "name", "prefix"}:
        return "conda"
    if "services" in keys and keys & {"version", "volumes", "networks", "x-common"}:
        return "compose"
    if "version" in keys and keys & _LOGGING_KEYS:
        return "logging"
    if keys & _CI_KEYS - {"steps"} or _ci_steps(documents) or _azure_template(documents):
        return "ci"
    if keys & _HYDRA_KEYS or any(_interpolates(document) for document in documents):
        return "framework"
    return None


def ci_definition(path: str, text: str, documents: list[yaml.Node], files: Collection[str]) -> bool:
    """Whether a YAML file defines CI jobs (a workflow, a pipeline, a template of one).

    A file the path alone calls CI because of a ``pipelines/`` folder must show it in its
    content too: ML projects keep their own pipeline settings in folders of that name.
    """
    if yaml_kind(path, text, documents, files) != "ci":
        return False
    folders = {part.lower() for part in path.split("/")[:-1]}
    name = path.rsplit("/", 1)[-1].lower()
    if folders & (_CI_DIRS - {"pipelines"}) or _matches(name, _CI_FILES):
        return True
    keys = set().union(*(_top_keys(document) for document in documents)) if documents else set()
    return bool(
        "${{" in text or keys & _CI_KEYS - {"steps"} or _ci_steps(documents)
        or _azure_template(documents)
    )  # fmt: skip


def framework_tree(path: str, files: Collection[str]) -> bool:
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


def conventional(path: str, files: Collection[str], at_least: int = 3) -> bool:
    """Whether the repository holds ``at_least`` files of this name in folders of their own (a
    ``config.yaml`` per dataset, say): its own convention, which one more file follows."""
    name = path.rsplit("/", 1)[-1]
    same = _same_name(files).get(name, 0)
    return same >= at_least


_SAME_NAME_CACHE: dict[int, tuple[Collection[str], Counter[str]]] = {}


def _same_name(files: Collection[str]) -> Counter[str]:
    # Rules ask for every YAML file of a repository; count the names once per listing.
    cached = _SAME_NAME_CACHE.get(id(files))
    if cached is not None and cached[0] is files:
        return cached[1]
    counts = Counter(f.rsplit("/", 1)[-1] for f in files if _YAML.search(f))
    _SAME_NAME_CACHE.clear()
    _SAME_NAME_CACHE[id(files)] = (files, counts)
    return counts


def _top_keys(document: yaml.Node) -> set[str]:
    if not isinstance(document, yaml.MappingNode):
        return set()
    return {str(key.value) for key, _ in document.value if isinstance(key, yaml.ScalarNode)}


def _ci_steps(documents: list[yaml.Node]) -> bool:
    """``steps:`` as a list, as CI services write them (ZenML's ``steps:`` is a mapping of the
    pipeline's steps to their settings)."""
    for document in documents:
        if not isinstance(document, yaml.MappingNode):
            continue
        for key, value in document.value:
            if getattr(key, "value", None) == "steps" and isinstance(value, yaml.SequenceNode):
                return True
    return False


def _azure_template(documents: list[yaml.Node]) -> bool:
    """An Azure Pipelines template: ``parameters`` as a list of ``name``/``type`` entries."""
    for document in documents:
        if not isinstance(document, yaml.MappingNode):
            continue
        for key, value in document.value:
            if getattr(key, "value", None) == "parameters" and isinstance(value, yaml.SequenceNode):
                entries = [_top_keys(item) for item in value.value]
                if entries and all("name" in entry for entry in entries):
                    return True
    return False


def _interpolates(node: yaml.Node) -> bool:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, yaml.ScalarNode):
            if isinstance(current.value, str) and "${" in current.value:
                return True
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if getattr(key, "value", None) in _HYDRA_KEYS:
                    return True
                pending.append(value)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
    return False
