"""Safe readers for the non-Python files rules look at."""

from __future__ import annotations

import json
from typing import Any

import yaml

# YAML is parsed into a node graph, never into Python objects, and only up to this size: an alias
# bomb or a huge generated file costs nothing.
YAML_MAX_BYTES = 256_000
YAML_MAX_NODES = 20_000
# libyaml's parser when PyYAML was built with it: the same nodes and marks, several times faster
# (pure-Python YAML was a quarter of a large repository's check).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnreadableFile(ValueError):
    pass


def compose_yaml(text: str) -> list[yaml.Node]:
    """The documents of a YAML text as nodes (with their source marks), via the safe loader."""
    if len(text.encode()) > YAML_MAX_BYTES:
        raise UnreadableFile(f"YAML larger than {YAML_MAX_BYTES} bytes")
    try:
        documents = list(yaml.compose_all(text, Loader=SAFE_LOADER))
    except yaml.YAMLError as exc:
        raise UnreadableFile(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    count = 0
    pending: list[yaml.Node] = [d for d in documents if d is not None]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        count += 1
        if count > YAML_MAX_NODES:
            raise UnreadableFile(f"YAML with more than {YAML_MAX_NODES} nodes")
        if isinstance(node, yaml.ScalarNode) and node.style == "":
            node.style = None  # libyaml marks a plain scalar "", the Python parser None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
    return [d for d in documents if d is not None]


def load_notebook(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"invalid notebook JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UnreadableFile("not a Jupyter notebook (no cells)")
    return data
