"""
What it does
------------
Flags a configuration setting defined in Python that no code reads: a field of a module-level
dataclass whose name says it is configuration (``TrainConfig``, ``Settings``, ``HParams``...).
Dict literals are left out on purpose: a ``LOGGING_CONFIG`` or ``html_theme_options`` dict is
handed whole to a library that reads its keys. A setting counts as read when its name appears anywhere else in the repository, or a second time in
its own file. Configurations that the code hands on wholesale (``asdict(``, ``vars(``, ``**``,
``.items()``, ``fields(``, ``getattr(``) in any file that names them are left alone, since every
field may be read through them.

Why is this bad?
----------------
A setting that nothing reads is a knob connected to nothing. It gets tuned, copied into the
next experiment and defended in review, and it makes the live settings harder to find. In a
typed configuration object, removing it is safe and easy: nothing refers to it.

Example
-------
.. code-block:: python

    @dataclass(frozen=True)
    class TrainConfig:
        learning_rate: float = 3e-4
        warmup_steps: int = 500   # read nowhere

    def train(config: TrainConfig):
        optimizer = Adam(model.parameters(), lr=config.learning_rate)

Use instead
-----------
Delete the field, or use it where it was meant to be used.

References
----------
- Sculley et al. (2014), "Configuration debt".
- vulture, which finds unused code, including unused class attributes.
"""

from __future__ import annotations

import re

from rules import Example, Repository, RepositoryContext, Rule

_CONFIG = """\
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float = 3e-4
    epochs: int = 10
"""
_TRAIN = """\
from churn.config import TrainConfig


def train(config: TrainConfig):
    return fit(lr=config.learning_rate, epochs=config.epochs)
"""

RULE = Rule(
    code="DEBT905",
    name="unread-config-field",
    principle="configuration-debt",
    severity="info",
    message="Remove `{field}` from `{holder}`, or use it: no code in the repository reads it.",
    valid=(
        Example(_CONFIG, path="churn/config.py", others=(("churn/train.py", _TRAIN),)),
        # Near miss: the whole configuration is handed on, so any field may be read.
        Example(
            _CONFIG + "    warmup_steps: int = 500\n",
            path="churn/config.py",
            others=(("churn/train.py", _TRAIN + "\nlogger.log(asdict(TrainConfig()))\n"),),
        ),
        # Near miss: a config dict is handed whole to a library.
        "import logging.config\n\nLOGGING_CONFIG = {'version': 1, 'root': {'level': 'INFO'}}\n"
        "logging.config.dictConfig(LOGGING_CONFIG)\n",
        # Near miss: a dataclass that is not configuration.
        Example(
            "from dataclasses import dataclass\n\n\n@dataclass\nclass Row:\n    age: int\n",
            path="churn/rows.py",
        ),
    ),
    invalid=(
        Example(
            _CONFIG + "    warmup_steps: int = 500\n",
            path="churn/config.py",
            line=8,
            others=(("churn/train.py", _TRAIN),),
        ),
        Example(
            "from dataclasses import dataclass\n\n\n@dataclass\nclass HParams:\n"
            "    epochs: int = 10\n    dropout: float = 0.1\n\n\n"
            "def train(hparams: HParams):\n    return fit(epochs=hparams.epochs)\n",
            path="train.py",
            line=7,
        ),
    ),
)

_GENERIC_USE = re.compile(r"\basdict\(|\bvars\(|\*\*\w|\.items\(\)|\bfields\(|\bgetattr\(")


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    for facts in repository.facts.values():
        if facts.is_test or not facts.config_fields:
            continue
        holders = {holder for holder, _ in facts.config_fields}
        generic = {
            holder
            for holder in holders
            for other in repository.facts.values()
            if holder in other.names and _GENERIC_USE.search(ctx.read(other.path))
        }
        text = ctx.read(facts.path)
        for holder, field in facts.config_fields:
            if holder in generic or _read_elsewhere(repository, facts.path, field):
                continue
            if len(re.findall(rf"\b{re.escape(field)}\b", text)) > 1:
                continue
            line = _line(text, field)
            ctx.report(facts.path, line, f"{holder}.{field}", holder=holder, field=field)


def _read_elsewhere(repository: Repository, path: str, field: str) -> bool:
    return any(f.path != path and field in f.names for f in repository.facts.values())


def _line(text: str, field: str) -> int:
    match = re.search(
        rf"""^\s*(?:{re.escape(field)}\s*:|["']{re.escape(field)}["']\s*:)""", text, re.M
    )
    return 1 if match is None else text.count("\n", 0, match.start()) + 1
