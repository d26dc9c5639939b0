"""
What it does
------------
Flags YAML loading that can build arbitrary Python objects: ``yaml.load`` and ``yaml.load_all``
without a loader, or with ``Loader=yaml.Loader``, ``yaml.UnsafeLoader``, ``yaml.FullLoader`` (or
their ``C`` variants), and the shortcuts ``yaml.unsafe_load``, ``yaml.full_load`` and their
``_all`` forms. PyYAML is recognised through the file's imports.

When the call sits on a single-line statement and ``yaml`` is imported as a module, the finding
offers the same line with ``yaml.safe_load`` (or ``yaml.safe_load_all``) instead; not for
``unsafe_load``, whose name says the Python objects may be wanted.

Why is this bad?
----------------
Copying ``yaml.load(f)`` from an old tutorial is the classic example of a habit kept after its
reason disappeared. The full and unsafe loaders honour Python-specific tags such as
``!!python/object``, so a config file, a downloaded model card or a dataset description can
create objects of any class while it is read, and with the unsafe loader run code. Configuration and metadata files only ever need
plain mappings, lists, strings and numbers, which is exactly what the safe loader builds. Since
PyYAML 6 a call without ``Loader`` is also an error, so the line fails on an upgrade.

Example
-------
.. code-block:: python

    import yaml

    with open(opt.hyp) as f:
        hyp = yaml.load(f, Loader=yaml.FullLoader)

Use instead
-----------
.. code-block:: python

    import yaml

    with open(opt.hyp) as f:
        hyp = yaml.safe_load(f)

References
----------
- ruff ``S506`` (unsafe-yaml-load), from bandit ``B506`` (yaml_load)
- semgrep ``python.lang.security.deserialization.avoid-pyyaml-load``; CodeQL
  ``py/unsafe-deserialization``
- PyYAML wiki, "PyYAML yaml.load(input) Deprecation"
- CWE-502, deserialization of untrusted data
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword

RULE = Rule(
    code="DEBT401",
    name="unsafe-yaml-load",
    principle="best-practices-trap",
    severity="error",
    message=(
        "Use `{fix}` instead of `{call}`, which can build arbitrary Python objects from its input."
    ),
    valid=(
        """
import yaml
with open("params.yaml") as f:
    params = yaml.safe_load(f)
""",
        # Near miss: yaml.load, but with the safe loader.
        """
import yaml
config = yaml.load(text, Loader=yaml.SafeLoader)
docs = list(yaml.load_all(stream, yaml.CSafeLoader))
""",
        # Near miss: a `load` that is not PyYAML's.
        """
import json
with open("meta.json") as f:
    meta = json.load(f)
""",
        # Near miss: a project-defined loader is not assumed unsafe.
        """
import yaml
cfg = yaml.load(f, Loader=IncludeLoader)
""",
        # Near miss: ruamel.yaml's safe instance, named `yaml`, is not the PyYAML module.
        """
from ruamel.yaml import YAML
def read(path):
    yaml = YAML(typ="safe", pure=True)
    with open(path) as f:
        return yaml.load(f)
""",
        # Near miss: `load` of another library, imported under a short name.
        """
from torch import load
state = load("model.pt", map_location="cpu")
""",
    ),
    invalid=(
        Example(
            """
import yaml
def read(path):
    with open(path) as f:
        cfg = yaml.load(f)  # settings
    return cfg
""",
            line=4,
            replacement="        cfg = yaml.safe_load(f)  # settings",
        ),
        Example(
            """
import yaml
hyp = yaml.load(open(opt.hyp), Loader=yaml.FullLoader)
""",
            line=2,
            replacement="hyp = yaml.safe_load(open(opt.hyp))",
        ),
        Example(
            """
import yaml as pyyaml
for doc in pyyaml.load_all(stream, pyyaml.Loader):
    handle(doc)
""",
            line=2,
        ),
        # Imported by name: no replacement offered, `safe_load` is not imported.
        Example(
            """
from yaml import load, CLoader as Loader
data = load(stream, Loader=Loader)
""",
            line=2,
        ),
        """
import yaml
spec = yaml.unsafe_load(
    text,
)
""",
    ),
)

_LOADS = {
    "yaml.load": "yaml.safe_load",
    "yaml.load_all": "yaml.safe_load_all",
    "yaml.unsafe_load": "yaml.safe_load",
    "yaml.unsafe_load_all": "yaml.safe_load_all",
    "yaml.full_load": "yaml.safe_load",
    "yaml.full_load_all": "yaml.safe_load_all",
}
_ALWAYS_UNSAFE = frozenset(
    {"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"}
)
_UNSAFE_LOADERS = frozenset(
    {
        "yaml.Loader",
        "yaml.UnsafeLoader",
        "yaml.FullLoader",
        "yaml.CLoader",
        "yaml.CUnsafeLoader",
        "yaml.CFullLoader",
        "yaml.loader.Loader",
        "yaml.loader.UnsafeLoader",
        "yaml.loader.FullLoader",
        "yaml.cyaml.CLoader",
        "yaml.cyaml.CUnsafeLoader",
        "yaml.cyaml.CFullLoader",
    }
)


@dataclass
class State:
    """Imported names that the file rebinds, such as ``yaml = YAML(typ="safe")``."""

    rebound: set[str] = field(default_factory=set)


def _loader(call: cst.Call) -> cst.Arg | None:
    found = keyword(call, "Loader")
    if found is not None:
        return found
    positional = [a for a in call.args if a.keyword is None]
    return positional[1] if len(positional) > 1 else None


def _replacement(call: cst.Call, fix: str, ctx: Context) -> str | None:
    """The statement's line with the safe call, when the statement is one plain line."""
    statement = ctx.enclosing(cst.SimpleStatementLine, cst.BaseCompoundStatement)
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    if not isinstance(call.func, cst.Attribute) or not isinstance(call.func.value, cst.Name):
        return None
    if any(a.star for a in call.args):
        return None
    original = ctx.module.code_for_node(statement.with_changes(leading_lines=()))
    if original.rstrip("\r\n").count("\n") or "\\" in original:
        return None
    module_alias = call.func.value.value
    new_call = call.with_changes(
        func=cst.Attribute(value=cst.Name(module_alias), attr=cst.Name(fix.split(".", 1)[1])),
        args=_without_loader(call),
    )
    rebuilt = statement.deep_replace(call, new_call).with_changes(leading_lines=())
    return ctx.indentation() + ctx.module.code_for_node(rebuilt).rstrip("\r\n")


def _without_loader(call: cst.Call) -> tuple[cst.Arg, ...]:
    loader = _loader(call)
    kept = [a for a in call.args if a is not loader]
    if kept:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return tuple(kept)


def _root(node: cst.BaseExpression) -> str | None:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    # `yaml = YAML(typ="safe")` (ruamel.yaml) rebinds the name: its `.load` is not PyYAML's.
    for target in node.targets:
        name = target.target
        if isinstance(name, cst.Name) and name.value in ctx.aliases:
            ctx.state.rebound.add(name.value)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    name = ctx.call_name(node)
    if name not in _LOADS:
        return
    root = _root(node.func)
    if root not in ctx.aliases or root in ctx.state.rebound:
        return  # `yaml` is not the imported PyYAML module here
    if name not in _ALWAYS_UNSAFE:
        loader = _loader(node)
        if loader is not None and ctx.qualified_name(loader.value) not in _UNSAFE_LOADERS:
            return
    fix = _LOADS[name]
    # `unsafe_load` is a deliberate choice (the file may hold Python objects on purpose), so the
    # message stands but no one-click rewrite is offered.
    replacement = None if name.startswith("yaml.unsafe_") else _replacement(node, fix, ctx)
    if replacement is not None:  # written as `<module alias>.load`: keep the alias
        fix = f"{node.func.value.value}.{fix.split('.', 1)[1]}"
    ctx.report(node, replacement=replacement, fix=fix, call=ctx.code(node.func).strip())
