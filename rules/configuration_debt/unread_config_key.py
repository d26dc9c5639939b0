"""
What it does
------------
Flags a key of a YAML configuration file that no Python code in the repository mentions. Only
YAML files the code loads by name (a string literal ending in the file's name, such as
``"configs/train.yaml"``) are judged, and only keys that look like identifiers. A file is left
alone when the code that names it consumes configuration generically (``**config``, ``vars(``,
``.items()``, ``setattr(``), and so are Hydra and OmegaConf files (``defaults:``, ``_target_``,
``${...}`` interpolation), whose keys frameworks read.

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

import re

import yaml

from rules import Example, Repository, RepositoryContext, Rule
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
    message="Remove `{key}` from this configuration, or use it: no code in the repository reads it.",
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
_FRAMEWORK = re.compile(r"^defaults:|_target_|\$\{", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    named = {}
    for facts in repository.facts.values():
        for name in facts.yaml_files:
            named.setdefault(name, []).append(facts)
    every_name = set().union(*(f.names for f in repository.facts.values()))
    for path in sorted(repository.files):
        readers = named.get(path.rsplit("/", 1)[-1])
        if not readers or not path.endswith((".yaml", ".yml")):
            continue
        if any(_GENERIC_USE.search(ctx.read(f.path)) for f in readers):
            continue
        text = ctx.read(path)
        if _FRAMEWORK.search(text):
            continue
        try:
            documents = compose_yaml(text)
        except UnreadableFile:
            continue
        for key, line in _keys(documents):
            if key not in every_name:
                ctx.report(path, line, f"key {key}", key=key)


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
