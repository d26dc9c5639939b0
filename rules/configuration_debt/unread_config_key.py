"""
What it does
------------
Flags the keys of a YAML configuration file that no Python code in the repository mentions, once
per file with the keys listed. Only files the project's own code loads by name are judged: a
string literal with a folder (``"configs/train.yaml"``, ``f"{name}/config.yaml"``) names the files
whose path ends with it, a bare file name those of that name beside the code or at the root.

Files someone else reads are left alone: CI definitions (GitHub Actions, Azure Pipelines and
their templates, GitLab CI), conda environments, Kubernetes and Docker Compose manifests, logging
configurations, Hydra and OmegaConf configs (``defaults:``, ``_target_``, ``${...}``), files handed
to an argument parser that fills dataclasses (``HfArgumentParser``, ``simple_parsing``,
``jsonargparse``), and files whose code consumes configuration generically (``**config``,
``vars(``, ``.items()``, ``setattr(``).

Why is this bad?
----------------
A setting that nothing reads still looks like a knob. People tune it, copy it into the next
experiment, argue about its value in review, and wonder why changing it changes nothing. Dead
configuration also hides the live settings among the dead ones, which is how configuration
grows until nobody dares to remove anything from it.

Example
-------
.. code-block:: yaml

    # configs/train.yaml
    learning_rate: 0.01
    epochs: 20
    warmup_steps: 500    # read nowhere

Use instead
-----------
Delete keys that nothing reads, or wire them up where they were meant to be used; better still,
keep a handful of settings in a typed Python object whose unused fields a linter can see.

References
----------
- Sculley et al. (2014), "Configuration debt".
- vulture (dead Python code) and ruff's unused-variable rules do the same for code.
"""

from __future__ import annotations

import fnmatch
import re

import yaml

from rules import Example, FileFacts, Repository, RepositoryContext, Rule
from rules.ml.files import WHOLE_FILE_READERS, kind_by_path, yaml_kind
from rules.readers import UnreadableFile, compose_yaml

_TRAIN = """\
import yaml

with open("configs/train.yaml") as handle:
    config = yaml.safe_load(handle)

model = fit(lr=config["learning_rate"], epochs=config["epochs"])
"""

RULE = Rule(
    code="DEBT904",
    name="unread-config-key",
    principle="configuration-debt",
    severity="info",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Remove `{keys}`{more} from this configuration, or use {them}: no code in the repository reads {them}.",
    files=("*.yaml", "*.yml"),
    valid=(
        Example(
            "learning_rate: 0.01\nepochs: 20\n",
            path="configs/train.yaml",
            others=(("train.py", _TRAIN),),
        ),
        # Near miss: the code hands the whole configuration on, so every key may be read.
        Example(
            "learning_rate: 0.01\nepochs: 20\nwarmup_steps: 500\n",
            path="configs/train.yaml",
            others=(("train.py", _TRAIN + "trainer = Trainer(**config)\n"),),
        ),
        # Near miss: a Hydra file, read by the framework.
        Example(
            "defaults:\n  - model: resnet\nwarmup_steps: 500\n",
            path="configs/train.yaml",
            others=(("train.py", _TRAIN),),
        ),
        # Near miss: no code names this file.
        Example("warmup_steps: 500\n", path="configs/other.yaml", others=(("train.py", _TRAIN),)),
        # Near miss: named only by its file name, from another folder; a file of that name
        # elsewhere is another file.
        Example(
            "blank_issues_enabled: false\n",
            path=".github/ISSUE_TEMPLATE/config.yml",
            others=(
                ("src/app.py", "import yaml\n\nSETTINGS = yaml.safe_load(open('config.yml'))\n"),
            ),
        ),
        # Near miss: a logging configuration, read whole by logging.config.dictConfig.
        Example(
            "version: 1\nformatters:\n  simple:\n    format: '%(message)s'\nhandlers:\n  console:\n    class: logging.StreamHandler\n",
            path="conf/logging.yml",
            others=(
                (
                    "run.py",
                    "import logging.config\n\nimport yaml\n\nlogging.config.dictConfig(yaml.safe_load(open('conf/logging.yml')))\n",
                ),
            ),
        ),
        # Near miss: a conda environment handed to an ML platform.
        Example(
            "name: train\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.10\n  - pip\n",
            path="environment.yml",
            others=(
                (
                    "submit.py",
                    "from azureml.core import Environment\n\nenv = Environment.from_conda_specification('train', 'environment.yml')\n",
                ),
            ),
        ),
        # Near miss: an Azure Pipelines template, whose parameters the template itself reads.
        Example(
            "parameters:\n  - name: environment\n    type: string\nsteps:\n  - script: python run.py\n    displayName: Run\n",
            path="ci/run-template.yml",
            others=(("ci/render.py", "TEMPLATE = 'ci/run-template.yml'\n"),),
        ),
        # Near miss: settings parsed into argument dataclasses by a library.
        Example(
            "learning_rate: 2.0e-5\nnum_train_epochs: 3\n",
            path="recipes/sft.yaml",
            others=(
                (
                    "train.py",
                    "from transformers import HfArgumentParser, TrainingArguments\n\nparser = HfArgumentParser(TrainingArguments)\n(args,) = parser.parse_yaml_file('recipes/sft.yaml')\n",
                ),
            ),
        ),
    ),
    invalid=(
        Example(
            "learning_rate: 0.01\nepochs: 20\nwarmup_steps: 500\n",
            path="configs/train.yaml",
            line=3,
            others=(("train.py", _TRAIN),),
        ),
        Example(
            "learning_rate: 0.01\nepochs: 20\nscheduler:\n  gamma: 0.9\n",
            path="configs/train.yaml",
            line=3,
            others=(("train.py", _TRAIN),),
        ),
    ),
)

_GENERIC_USE = re.compile(r"\*\*\w|\bvars\(|\.items\(\)|\bsetattr\(")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%[sd]")
_LISTED = 8  # keys named in a finding; the rest are counted


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    every_name = set().union(*(f.names for f in repository.facts.values()))
    for path in sorted(repository.files):
        if not path.endswith((".yaml", ".yml")) or kind_by_path(path, repository.files):
            continue
        readers = [f for f in repository.facts.values() if _names_file(f, path)]
        if not readers or any(f.names & WHOLE_FILE_READERS for f in readers):
            continue
        if any(_GENERIC_USE.search(ctx.read(f.path)) for f in readers):
            continue
        text = ctx.read(path)
        try:
            documents = compose_yaml(text)
        except UnreadableFile:
            continue
        if yaml_kind(path, text, documents, repository.files) is not None:
            continue
        unread = [(key, line) for key, line in _keys(documents) if key not in every_name]
        if unread:
            keys = list(dict.fromkeys(key for key, _ in unread))
            more = f" and {len(keys) - _LISTED} more" if len(keys) > _LISTED else ""
            them = "them" if len(keys) > 1 else "it"
            # One finding per file, known by the file: a key more or less is the same problem.
            shown = "`, `".join(keys[:_LISTED])
            ctx.report(path, unread[0][1], "unread keys", keys=shown, more=more, them=them)


def _names_file(facts: FileFacts, path: str) -> bool:
    """Whether a Python file names the YAML file ``path`` in a string literal.

    A literal with a folder (``configs/train.yaml``, ``{name}/config.yaml``) names the files
    whose path ends with it; a bare file name, those of that name in the code's own folder or
    at the root, where scripts are run from.
    """
    for literal in facts.yaml_files:
        pattern = _PLACEHOLDER.sub("*", literal)
        if "/" in pattern:
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, "*/" + pattern):
                return True
        elif fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern):
            folder = path.rpartition("/")[0]
            if folder in ("", facts.path.rpartition("/")[0]):
                return True
    return False


def _keys(documents: list[yaml.Node]) -> list[tuple[str, int]]:
    """Identifier-like mapping keys at any depth, with their 1-based lines."""
    found = []
    pending = list(documents)
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and _IDENTIFIER.match(str(key.value)):
                    found.append((key.value, key.start_mark.line + 1))
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return sorted(found, key=lambda pair: pair[1])
