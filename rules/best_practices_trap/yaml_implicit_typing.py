"""
What it does
------------
Flags unquoted values in YAML files that PyYAML (which follows YAML 1.1) turns into something
other than what was most likely written:

- ``yes``, ``no``, ``on``, ``off`` (any case) become booleans;
- ``22:22`` or ``1:30`` become base-60 integers (1342 and 90);
- ``0755`` or ``0123`` become octal integers (493 and 83);
- versions such as ``3.10`` under a version-like key (``python-version``, ``cuda``,
  ``version``...) become the float ``3.1``;
- ``2024-01-31`` becomes a ``datetime.date`` rather than a string; values under a key that
  names a date or time (``start_date``, ``cutoff``, ``end``...) and lists made only of dates are
  taken to mean dates and are not reported.

Files that other tools read with their own parsers (CI definitions, Docker Compose,
Kubernetes, conda, documentation sites) mostly follow YAML 1.2, where only the version trap
holds; in them only that one is reported.

Mapping keys (such as GitHub Actions' ``on:``) are not checked. When it is safe the finding
offers the line rewritten: ``true``/``false`` for a boolean (the value PyYAML already reads; a
value among strings in the same list is quoted instead), the value quoted for the other cases.
Octal-looking numbers get no suggestion, since only the author knows whether the octal value was
meant.

Why is this bad?
----------------
YAML is often picked for configuration because it is the usual choice, not because its typing
rules are understood. The file looks like plain text, but the loader decides the type of every
unquoted value: a country code ``NO`` becomes ``False``, a start time ``10:30`` becomes ``630``,
``python: 3.10`` installs Python 3.1, an identifier with a leading zero becomes a different
number. Nothing fails; the wrong value just flows into the job. Other parsers (YAML 1.2, used by
many non-Python tools) read some of these values differently again, so the same file can mean two
things.

Example
-------
.. code-block:: yaml

    python-version: 3.10
    countries: [SE, DK, NO]
    retrain_at: 10:30
    use_gpu: yes

Use instead
-----------
.. code-block:: yaml

    python-version: "3.10"
    countries: [SE, DK, "NO"]
    retrain_at: "10:30"
    use_gpu: true

References
----------
- yamllint ``truthy`` and ``octal-values`` rules
- YAML 1.1 type repository: ``bool``, ``int`` (base 60, octal), ``float``, ``timestamp``
- PyYAML documentation, "Constructors, representers, resolvers"
- Ruud van Asseldonk, "The yaml document from hell" (2023)
"""

from __future__ import annotations

import re

import yaml

from rules import Context, Example, Rule
from rules.ml import files

RULE = Rule(
    code="DEBT402",
    name="yaml-implicit-typing",
    principle="best-practices-trap",
    severity="warning",
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Write `{fix}` instead of the plain YAML value `{value}`, which {reader} reads as {meaning}.",
    files=("*.yaml", "*.yml"),
    valid=(
        """
use_gpu: true
countries: [SE, DK, "NO"]
lr: 1.5
retrain_at: "10:30"
""",
        # Near miss: quoted or explicitly tagged values mean what they say.
        """
answer: "no"
mode: '0755'
python: "3.10"
flag: !!str yes
release: !!str 2024-01-31
""",
        # Near miss: a float with a trailing zero is only a version under a version-like key.
        """
dropout: 0.10
scale: 1.50
epochs: 10
""",
        # Near miss: "version" inside another word is not a version.
        """
conversion_rate: 0.10
tf_idf_weight: 2.50
""",
        # Near miss: `on` as a mapping key (GitHub Actions) is not a value.
        Example(
            """
on:
  push:
    branches: [main]
""",
            path=".github/workflows/ci.yml",
        ),
        # Near miss: dates where a date is meant.
        """
start_date: 2024-01-01
segments:
  train: [2008-01-01, 2014-12-31]
""",
        # Near miss: strings that only look like the trap: `y`/`n` stay strings in PyYAML.
        """
answer: n
zip: 08
""",
        # Near miss: a file another tool reads with a YAML 1.2 parser (here Jekyll's site
        # settings), where `off` stays a string.
        Example("comments: off\nsearch: yes\n", path="docs/_config.yml"),
    ),
    invalid=(
        Example(
            """
training:
  epochs: 10
  use_gpu: yes  # on the cluster
""",
            path="config.yaml",
            line=3,
            replacement="  use_gpu: true  # on the cluster",
        ),
        Example(
            """
strategy:
  matrix:
    python-version: [3.9, 3.10, 3.11]
""",
            path=".github/workflows/tests.yml",
            line=3,
            replacement='    python-version: [3.9, "3.10", 3.11]',
        ),
        Example(
            """
countries:
  - SE
  - NO
""",
            path="markets.yml",
            line=3,
            replacement='  - "NO"',
        ),
        Example(
            """
schedule:
  retrain_at: 10:30
""",
            path="schedule.yaml",
            line=2,
            replacement='  retrain_at: "10:30"',
        ),
        Example(
            """
output:
  mode: 0755
""",
            path="deploy.yaml",
            line=2,
        ),
        Example(
            """
data:
  snapshot: 2024-01-31
""",
            path="data.yaml",
            line=2,
            replacement='  snapshot: "2024-01-31"',
        ),
    ),
)

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_STR = "tag:yaml.org,2002:str"
_TRUE_FALSE = frozenset({"true", "false"})
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_TEMPORAL_KEY = re.compile(
    r"date|time|day|start|end|begin|from|until|since|cutoff|period|year|month|expir|created"
    r"|updated|modified|deadline|(^|_)(at|to|dt)$",
    re.IGNORECASE,
)
_VERSION_KEYS = frozenset(
    {"python", "py", "pytorch", "torch", "cuda", "cudnn", "tensorflow", "tf", "numpy", "release"}
    | {"ver", "rev", "version", "versions"}
)
_KEY_WORDS = re.compile(r"[\s_.-]+")


def _version_key(key: str | None) -> bool:
    """``python``, ``cuda``, ``python-version``, ``min_version``; not ``conversion_rate``."""
    if key is None:
        return False
    lowered = key.lower()
    words = _KEY_WORDS.split(lowered)
    return lowered in _VERSION_KEYS or "version" in words or "versions" in words


def _meaning(
    node: yaml.ScalarNode, key: str | None, siblings: list
) -> tuple[str, str, bool] | None:
    """(fix, what PyYAML reads, whether the fix may be offered) for a surprising plain value."""
    tag, raw = node.tag, node.value
    if tag == _BOOL:
        if raw.lower() in _TRUE_FALSE:
            return None
        value = raw.lower() in {"yes", "on"}
        among_strings = any(
            isinstance(s, yaml.ScalarNode) and s.tag == _STR and s.style is None for s in siblings
        )
        if among_strings:
            return f'"{raw}"', f"the boolean `{value}`", True
        return str(value).lower(), f"the boolean `{value}`", True
    if tag in (_INT, _FLOAT) and ":" in raw:
        number = yaml.safe_load(raw)
        return f'"{raw}"', f"the base-60 number `{number}`", True
    if tag == _INT and _OCTAL.fullmatch(raw) and raw.strip("+-0_"):
        return f'"{raw}"', f"the octal integer `{yaml.safe_load(raw)}`", False
    if tag == _FLOAT and _version_key(key):
        number = yaml.safe_load(raw)
        if isinstance(number, float) and str(number) != raw:
            return f'"{raw}"', f"the float `{number}`", True
    if tag == _TIMESTAMP:
        if key is not None and _TEMPORAL_KEY.search(key):
            return None  # `start_date: 2024-01-31` is meant as a date
        if siblings and all(getattr(s, "tag", None) == _TIMESTAMP for s in siblings):
            return None  # `train: [2008-01-01, 2014-12-31]`, a range of dates
        kind = "datetime.date" if len(raw) <= 10 else "datetime.datetime"
        return f'"{raw}"', f"a `{kind}`, not a string", True
    return None


def _values(document: yaml.Node):
    """(scalar value node, nearest mapping key, sibling nodes) for every value in the document."""
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, str | None, list]] = [(document, None, [])]
    while pending:
        node, key, siblings = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                name = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                pending.append((value, name, []))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, key, node.value) for item in node.value)
        elif isinstance(node, yaml.ScalarNode) and node is not document:
            yield node, key, siblings


# Kinds of files read by other YAML parsers than PyYAML (GitHub's, Go's, Ruby's, ruamel's). Most
# follow YAML 1.2, where `yes`, `0755` and `22:22` mean what they say; a version such as `3.10`
# is the float 3.1 in every YAML, so that trap is reported in these files too.
_OTHER_READERS = frozenset({"ci", "compose", "kubernetes", "conda", "tool", "run-output"})


def check(ctx: Context) -> None:
    documents = ctx.yaml_documents()
    other = files.yaml_kind(ctx.path, ctx.text, documents, ctx.files) in _OTHER_READERS
    found: dict[int, list[tuple[yaml.ScalarNode, str, str, bool]]] = {}
    for document in documents:
        for node, key, siblings in _values(document):
            if node.style is not None or node.tag == _STR:
                continue
            start, end = node.start_mark, node.end_mark
            if start.line != end.line or start.line >= len(ctx.lines):
                continue
            if ctx.lines[start.line][start.column : end.column] != node.value:
                continue  # tagged, anchored or otherwise not the bare text we think it is
            meaning = _meaning(node, key, siblings)
            if meaning is not None and not (other and not meaning[1].startswith("the float")):
                found.setdefault(start.line, []).append((node, *meaning))
    for index in sorted(found):
        items = sorted(found[index], key=lambda item: item[0].start_mark.column)
        node, fix, meaning, _ = items[0]
        text = ctx.lines[index]
        replacement = None
        if all(safe for *_, safe in items):
            replacement = text
            for other, other_fix, _, _ in reversed(items):
                start, end = other.start_mark.column, other.end_mark.column
                replacement = replacement[:start] + other_fix + replacement[end:]
        ctx.report_line(
            index + 1,
            column=node.start_mark.column + 1,
            replacement=replacement,
            fix=fix,
            value=node.value,
            meaning=meaning,
            reader="YAML" if other else "PyYAML",
        )
