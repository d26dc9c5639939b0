"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT903"]``).

Flags a file that registers more than ``max-arguments`` command-line options (default 25):
``parser.add_argument(...)`` calls on argparse parsers and argument groups, click's
``@click.option``/``@click.argument`` decorators, typer's ``typer.Option``/``typer.Argument`` and
absl's ``flags.DEFINE_*``. The finding is reported once per file, on the first option, with the
count. Test files are skipped, and so are files whose flags already sit on top of a config
file (an option whose default is a ``.yaml``, ``.yml``, ``.json`` or ``.toml`` path, as in
``--hyp data/hyps/hyp.scratch-low.yaml``) and trial scripts of a tuning service (files importing
``nni`` or ``azureml``), whose flags are how the service hands over the values it tunes.

Option: ``max-arguments`` (default 25), the largest number of options a file may register.

Why is this bad?
----------------
A training script with fifty flags is a configuration system nobody designed. Each run is
described only by the shell command that started it, so reproducing a result means finding that
command again; defaults change silently between commits; flags that no experiment uses any more
are never deleted, because nobody can tell which ones are still needed; and combinations of
flags that were never meant to go together are only discovered at run time.

Example
-------
.. code-block:: python

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--warmup-steps", type=int, default=2000)
    # ... forty more options
    parser.add_argument("--label-smoothing", type=float, default=0.1)

Use instead
-----------
Keep the settings of an experiment in a versioned, validated config file, and leave only what
really changes per run on the command line:

.. code-block:: python

    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path, help="experiment config (YAML)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cfg = TrainConfig.model_validate(yaml.safe_load(args.config.read_text()))

References
----------
- pylint ``R0913`` (too-many-arguments) applies the same idea to function signatures
- Hydra and OmegaConf documentation (composing configs instead of flag lists)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems", configuration debt
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import string_value


def _script(count: int) -> str:
    lines = ["import argparse", "", "parser = argparse.ArgumentParser()"]
    lines += [f'parser.add_argument("--option-{n}", type=int, default={n})' for n in range(count)]
    lines.append("args = parser.parse_args()")
    return "\n".join(lines) + "\n"


def _click_command(count: int) -> str:
    lines = ["import click", "", "@click.command()"]
    lines += [f'@click.option("--option-{n}", type=int, default={n})' for n in range(count)]
    lines += ["def train(**options):", "    run(options)"]
    return "\n".join(lines) + "\n"


RULE = Rule(
    code="DEBT903",
    name="sprawling-cli",
    principle="configuration-debt",
    severity="info",
    message="Move most of the {count} command-line options this file registers with `{api}` into a versioned config file, keeping flags only for what changes per run.",
    options={"max-arguments": 25},
    default_enabled=False,
    disabled_because="0 of 8 findings right on whole repositories",
    valid=(
        # Near miss: exactly at the limit.
        _script(25),
        # Near miss: many flags, but over a config file that describes the run.
        _script(30).replace(
            "args = parser.parse_args()",
            'parser.add_argument("--hyp", default="data/hyps/scratch.yaml")\nargs = parser.parse_args()',
        ),
        # Near miss: many `add_argument` calls, but in a test file.
        Example(_script(30), path="tests/test_cli.py"),
        """
import argparse

parser = argparse.ArgumentParser()
parser.add_argument("config", type=Path)
parser.add_argument("--seed", type=int, default=0)
""",
    ),
    invalid=(
        Example(_script(26), line=4),
        Example(_click_command(30), line=4),
        Example(
            "from absl import flags\n\n"
            + "\n".join(f'flags.DEFINE_integer("option_{n}", {n}, "help")' for n in range(40))
            + "\n",
            line=3,
        ),
    ),
)

_DECLARATIONS = frozenset({"click.option", "click.argument", "typer.Option", "typer.Argument"})
_LAST_PARTS = frozenset({"option", "argument", "Option", "Argument"})
_FLAG_MODULES = ("absl.flags.", "tensorflow.flags.", "tensorflow.compat.v1.flags.")


def _api(node: cst.Call, ctx: Context) -> str | None:
    """The API a call registers an option with, or None."""
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "add_argument":
        return "add_argument"
    if isinstance(func, cst.Attribute):
        last = func.attr.value
    elif isinstance(func, cst.Name):
        last = func.value
    else:
        return None
    if last not in _LAST_PARTS and not last.startswith("DEFINE_"):
        return None
    name = ctx.call_name(node) or ""
    if name in _DECLARATIONS:
        return name
    if "DEFINE_" in name and name.startswith(_FLAG_MODULES):
        return name.rsplit(".", 2)[-2] + ".DEFINE_*"
    return None


_CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_TUNING_SERVICES = frozenset({"nni", "azureml"})


@dataclass
class State:
    """The options declared in the file so far, the first of them, and the decorators seen."""

    count: int = 0
    first: tuple[cst.Call, str] | None = None
    # An option defaults to a config file: the flags sit on top of it, and the file is left alone.
    config_file: bool = False
    # Decorator calls, counted with their function rather than when the walk reaches them.
    counted: set[int] = field(default_factory=set)


def _names_config_file(node: cst.Call) -> bool:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == "default":
            value = string_value(arg.value)
            return value is not None and value.lower().endswith(_CONFIG_SUFFIXES)
    return False


def _count(node: cst.Call, api: str, ctx: Context[State]) -> None:
    state = ctx.state
    if _names_config_file(node):
        state.config_file = True
    state.count += 1
    if state.first is None:
        state.first = (node, api)


def visit_FunctionDef(node: cst.FunctionDef, ctx: Context[State]) -> None:
    """Count decorators here: the walk reaches them after the parameters, but they come first."""
    for decorator in node.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and (api := _api(call, ctx)) is not None:
            ctx.state.counted.add(id(call))
            if not ctx.is_test:
                _count(call, api, ctx)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    api = _api(node, ctx)
    if api is None or ctx.is_test or id(node) in ctx.state.counted:
        return
    _count(node, api, ctx)


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    count = ctx.state.count
    tuned = any(target.split(".", 1)[0] in _TUNING_SERVICES for target in ctx.aliases.values())
    if ctx.state.config_file or tuned:
        return
    if count > int(ctx.options["max-arguments"]):
        assert ctx.state.first is not None  # set by the first option counted
        first, api = ctx.state.first
        ctx.report(first, count=count, api=api)
