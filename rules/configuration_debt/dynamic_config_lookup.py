"""
What it does
------------
Flags configuration that is read or written through names computed at run time:

- ``getattr(cfg, name)`` and ``setattr(cfg, key, value)`` where the attribute name is not a
  string literal and the object looks like configuration (``cfg``, ``config``, ``args``, ``opt``,
  ``hparams``, ``hyp``, ``settings``, ``*_cfg``, ``*_config``, ``self.cfg``...);
- writes to module globals by computed name: ``globals()[key] = value``, and
  ``globals().update(...)`` with settings (a config object, ``vars(args)``, a loaded file);
- ``exec`` of a file's text, as in ``exec(open("configurator.py").read())``.

Names that are spelled out nearby are not flagged: a loop over a literal list of names
(``for k in ("n_layer", "num_layers")``), a name assigned from string literals in the same
function (``member = "threading" if new else "experimental_threading"``), and a loop over the
object's own fields to print or copy them (``getattr(args, k) for k in vars(args)``). An override
that is checked against the names that already exist is not flagged either:
``globals()[key] = value`` under ``if key in globals():`` and ``setattr(cfg, key, value)`` under
``if hasattr(cfg, key):`` (an unknown key cannot slip in; the ``exec`` that usually comes with
such a configurator is still reported). Nor are ``globals().update(...)`` calls that export a
registry rather than settings, ``setup.py`` files, ``exec`` of a ``version.py``, and test files.

Why is this bad?
----------------
Configuration looked up by a computed name is invisible to the tools people rely on to change
it safely: find-usages, rename, type checkers and linters see no reference to the setting. A key
that arrives from a YAML file or the command line with a typo is silently set as a new attribute
(or a new global) and the run uses the default without a word. ``exec`` of a config file goes
further: any code in that file runs with the full power of the training script, and nothing
records which settings it changed.

Example
-------
.. code-block:: python

    overrides = yaml.safe_load(open(path))
    for key, value in overrides.items():
        setattr(cfg, key, value)

Use instead
-----------
Validate overrides against a declared schema, so unknown keys fail loudly:

.. code-block:: python

    @dataclass
    class TrainConfig:
        lr: float = 3e-4
        batch_size: int = 64

    cfg = dataclasses.replace(cfg, **overrides)  # TypeError on an unknown key

References
----------
- ruff ``B009``/``B010`` (getattr/setattr with a constant attribute) and ``S102`` (exec-builtin)
- pylint ``W0122`` (exec-used)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems", configuration debt
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.configuration_debt.deep_config_access import config_root
from rules.names import string_value

RULE = Rule(
    code="DEBT902",
    name="dynamic-config-lookup",
    principle="configuration-debt",
    severity="warning",
    message="Replace `{what}` with explicit, declared settings so that find-usages and validation can see them.",
    valid=(
        # Near miss: getattr with a literal name.
        """
import torch.nn as nn
activation = getattr(nn, "GELU")()
""",
        # Near miss: a computed name, but on a module, not on configuration.
        """
def build(name, **kwargs):
    return getattr(models, name)(**kwargs)
""",
        # Near miss: dumping every field of the namespace for logging.
        """
def log_args(args):
    for key in vars(args):
        print(f"{key}: {getattr(args, key)}")
""",
        # Near miss: setup.py reading the package version.
        Example(
            """
exec(open("src/debt/version.py").read())
setup(name="debt", version=__version__)
""",
            path="setup.py",
        ),
        # Near miss: the candidate names are spelled out in the code.
        """
def num_layers(config):
    for attr in ("num_hidden_layers", "n_layer", "num_layers"):
        if hasattr(config, attr):
            return getattr(config, attr)
""",
        # Near miss: an override that only replaces settings that already exist.
        """
for arg in sys.argv[1:]:
    name, raw = arg.removeprefix("--").split("=", 1)
    if name in globals():
        value = literal_eval(raw)
        assert isinstance(value, type(globals()[name]))
        globals()[name] = value
    else:
        raise KeyError(f"no such setting: {name}")
""",
        # Near miss: reading a global by name is a lookup table, not configuration written.
        """
def get_model(name):
    return globals()[name]()
""",
    ),
    invalid=(
        Example(
            """
opt_dict = yaml.safe_load(path.read_text())
for key, value in opt_dict.items():
    setattr(opt, key, value)
""",
            line=3,
        ),
        Example(
            """
batch_size = 12
learning_rate = 6e-4
exec(open("configurator.py").read())
""",
            line=3,
        ),
        """
for arg in sys.argv[1:]:
    key, val = arg.split("=")
    globals()[key] = literal_eval(val)
""",
        """
class Trainer:
    def lr_for(self, stage):
        return getattr(self.cfg, f"{stage}_lr")
""",
    ),
)


@dataclass
class State:
    """Whether the file is left alone, and the names bound to literal strings per function."""

    # Worked out from the path on first use; None until then.
    skip_file: bool | None = None
    # Keyed by the id of the enclosing function (of None at module level).
    literal_names: dict[int, set[str]] = field(default_factory=dict)


def _what(node: cst.Call, ctx: Context[State]) -> str | None:
    """A short description of the dynamic access ``node`` performs, or None."""
    func = node.func
    if isinstance(func, cst.Name):
        name = func.value
        if name in ("getattr", "setattr") and len(node.args) >= 2:
            return _attr_access(node, name, ctx)
        if name == "exec" and node.args and _reads_file(node.args[0].value, ctx):
            code = " ".join(ctx.code(node).split())
            return code if len(code) <= 60 and "{" not in code else "exec(<file>.read())"
        return None
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value == "update"
        and _is_globals(func.value)
        and node.args
        and _looks_like_settings(node.args[0].value, ctx)
    ):
        return "globals().update(...)"
    return None


def _looks_like_settings(node: cst.BaseExpression, ctx: Context) -> bool:
    """``globals().update(cfg)``, ``(vars(args))``, ``(yaml.safe_load(f))``; not a registry."""
    if config_root(_base(node)) is not None:
        return True
    code = ctx.code(node)
    return any(marker in code for marker in ("vars(", "load(", "loads(", "parse_args(", "environ"))


def _attr_access(node: cst.Call, name: str, ctx: Context[State]) -> str | None:
    target, attr = node.args[0].value, node.args[1].value
    if string_value(attr) is not None or node.args[0].keyword is not None:
        return None
    root = config_root(_base(target))
    if root is None:
        return None
    if _names_known(attr, target, ctx):
        return None
    if name == "setattr" and _guarded(attr, target, ctx):
        return None
    rest = ", ..." if name == "setattr" else ""
    shown = attr.value if isinstance(attr, cst.Name) else "<computed name>"
    return f"{name}({ctx.code(target)}, {shown}{rest})"


def _base(node: cst.BaseExpression) -> cst.BaseExpression:
    """``cfg`` for ``cfg.model.head``; ``self.cfg`` for ``self.cfg.model``."""
    while isinstance(node, cst.Attribute) and config_root(node) is None:
        node = node.value
    return node


def _names_known(attr: cst.BaseExpression, target: cst.BaseExpression, ctx: Context[State]) -> bool:
    """The name runs over a literal list of strings (``for a in ("n_layer", "num_layers")``),
    over the object's own fields (``getattr(args, k) for k in vars(args)``), or was assigned a
    string literal earlier in the function."""
    if not isinstance(attr, cst.Name):
        return False
    for ancestor in reversed(ctx.ancestors):
        if isinstance(ancestor, cst.For | cst.CompFor) and _binds(ancestor.target, attr.value):
            loop = ancestor.iter
            if isinstance(loop, cst.Tuple | cst.List | cst.Set) and all(
                string_value(element.value) is not None for element in loop.elements
            ):
                return True
            return ctx.code(target) in ctx.code(loop) and _lists_fields(loop, ctx)
    scope = ctx.enclosing(cst.FunctionDef)
    return attr.value in ctx.state.literal_names.get(id(scope), ())


def _is_literal_choice(node: cst.BaseExpression) -> bool:
    """``"threading"`` or ``"threading" if new else "experimental_threading"``."""
    if isinstance(node, cst.IfExp):
        return _is_literal_choice(node.body) and _is_literal_choice(node.orelse)
    return string_value(node) is not None


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    """Remember names bound to a literal attribute name, such as ``member = "a" if x else "b"``."""
    if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
        return
    if not _is_literal_choice(node.value):
        return
    scope = ctx.enclosing(cst.FunctionDef)
    names = ctx.state.literal_names.setdefault(id(scope), set())
    names.add(node.targets[0].target.value)


def _binds(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, cst.Tuple | cst.List):
        return any(_binds(element.value, name) for element in target.elements)
    return False


def _lists_fields(node: cst.BaseExpression, ctx: Context) -> bool:
    code = ctx.code(node)
    return any(marker in code for marker in ("vars(", "dir(", "__dict__", "fields(", "_fields"))


def _reads_file(node: cst.BaseExpression, ctx: Context) -> bool:
    """``open(p).read()``, ``Path(p).read_text()``, possibly inside ``compile(...)``."""
    if isinstance(node, cst.Call) and ctx.call_name(node) == "compile" and node.args:
        node = node.args[0].value
    if not (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)):
        return False
    if node.func.attr.value not in ("read", "read_text"):
        return False
    source = node.func.value
    if isinstance(source, cst.Call) and source.args:
        path = string_value(source.args[0].value) or ""
        if path.rsplit("/", 1)[-1] in (
            "version.py",
            "_version.py",
            "__version__.py",
            "__init__.py",
        ):
            return False
    return True


def _checks_name(
    test: cst.BaseExpression, key: str, container: cst.BaseExpression | None, ctx: Context
):
    """``key in globals()`` (container None) or ``hasattr(container, key)``, alone or in an ``and``."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _checks_name(test.left, key, container, ctx) or _checks_name(
            test.right, key, container, ctx
        )
    if container is None:
        return (
            isinstance(test, cst.Comparison)
            and isinstance(test.left, cst.Name)
            and test.left.value == key
            and len(test.comparisons) == 1
            and isinstance(test.comparisons[0].operator, cst.In)
            and _is_globals(test.comparisons[0].comparator)
        )
    return (
        isinstance(test, cst.Call)
        and isinstance(test.func, cst.Name)
        and test.func.value == "hasattr"
        and len(test.args) == 2
        and isinstance(test.args[1].value, cst.Name)
        and test.args[1].value.value == key
        and ctx.code(test.args[0].value) == ctx.code(container)
    )


def _guarded(key: cst.BaseExpression, container: cst.BaseExpression | None, ctx: Context) -> bool:
    """The write sits in the body of an ``if`` that checks the name already exists."""
    if not isinstance(key, cst.Name):
        return False
    ancestors = ctx.ancestors
    for index in range(len(ancestors) - 2, -1, -1):
        node = ancestors[index]
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            return False
        if (
            isinstance(node, cst.If)
            and ancestors[index + 1] is node.body
            and _checks_name(node.test, key.value, container, ctx)
        ):
            return True
    return False


def _is_globals(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "globals"
        and not node.args
    )


def _skipped_file(ctx: Context[State]) -> bool:
    if ctx.state.skip_file is None:
        ctx.state.skip_file = ctx.is_test or ctx.path.rsplit("/", 1)[-1] == "setup.py"
    return ctx.state.skip_file


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    func = node.func
    if isinstance(func, cst.Name):
        if func.value not in ("getattr", "setattr", "exec"):
            return
    elif not (isinstance(func, cst.Attribute) and func.attr.value == "update"):
        return
    if _skipped_file(ctx):
        return
    what = _what(node, ctx)
    if what is not None:
        ctx.report(node, what=what)


def visit_AssignTarget(node: cst.AssignTarget, ctx: Context[State]) -> None:
    target = node.target
    if not (isinstance(target, cst.Subscript) and _is_globals(target.value)):
        return
    if _skipped_file(ctx) or len(target.slice) != 1:
        return
    index = target.slice[0].slice
    if isinstance(index, cst.Index) and string_value(index.value) is None:
        if _guarded(index.value, None, ctx):
            return  # validated override: the name must already be a setting
        shown = index.value.value if isinstance(index.value, cst.Name) else "<computed name>"
        ctx.report(target, what=f"globals()[{shown}] = ...")
