"""
What it does
------------
Flags code that reaches deep into a configuration object: a chain of at least ``min-depth``
string-key subscripts or attribute hops (default 3) on a name that holds configuration, such as
``cfg["model"]["encoder"]["layers"]``, ``config.model.encoder.layers``,
``self.cfg.data.loader.batch_size`` or ``cfg.get("model").get("encoder").get("layers")``.

Attribute chains are only checked when the root looks like configuration: ``cfg``, ``config``,
``conf``, ``hparams``, ``hyp``, ``settings``, ``opt``, ``options``, ``args`` and names ending in
``_cfg``, ``_config`` or ``_conf`` (also as ``self.<name>``). ``params`` is left out on purpose: in
JAX and Flax code it holds the model's weights. Code whose job is the configuration itself is
left alone: functions whose name mentions it (``from_config``, ``setup_cfg``,
``add_deeplab_config``), files and folders named after it (``config.py``, ``configs/``), and
test files. So is an object a function builds from a class and then sets up
(``run_config = RunConfiguration()`` followed by ``run_config.environment.docker.enabled = True``):
that is an SDK's configuration being written, not the project's being read.

Each function is reported once per configuration section (the chain without its last key), at
the first access, so twenty reads of ``cfg.model.encoder.*`` give one finding.

Option: ``min-depth`` (default 3), the number of keys or attributes after the root that makes a
chain deep.

Why is this bad?
----------------
Every deep access hard-codes the whole layout of the configuration at that spot. Moving or
renaming a section means finding every string path in the code base, and a typo in a key deep
inside a chain only fails when that line runs, often hours into training. Code that knows the
full tree is also tied to one experiment setup: it cannot be reused with another config, and
tests have to build the whole nested structure to call it.

Example
-------
.. code-block:: python

    def build_encoder(cfg):
        return Encoder(
            layers=cfg["model"]["encoder"]["layers"],
            heads=cfg["model"]["encoder"]["heads"],
        )

Use instead
-----------
Pass the section the code needs, or turn it into a typed object once at the entry point:

.. code-block:: python

    def build_encoder(encoder_cfg: EncoderConfig):
        return Encoder(layers=encoder_cfg.layers, heads=encoder_cfg.heads)

    build_encoder(EncoderConfig(**cfg["model"]["encoder"]))

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems", section on configuration
  debt
- Hydra documentation, "Structured Configs" (typed dataclass configs instead of string paths)
- pylint ``R0902``/Law of Demeter discussions; no direct equivalent in ruff or dslinter
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted, string_value

RULE = Rule(
    code="DEBT901",
    name="deep-config-access",
    principle="configuration-debt",
    severity="info",
    message="Pass `{section}` into this code as its own object instead of reaching {depth} levels into `{root}` here.",
    options={"min-depth": 3},
    valid=(
        # Near miss: three string keys, but on an API response, not configuration.
        """
def parse(response):
    return response["data"]["items"]["total"]
""",
        # Near miss: two levels only.
        """
def build_optimizer(model, cfg):
    return torch.optim.AdamW(model.parameters(), lr=cfg["optim"]["lr"])
""",
        # Near miss: an integer index breaks the chain, and the method call is not a key.
        """
def first_stage(cfg):
    cfg.stages[0].blocks.append(block)
    return cfg.model.build()
""",
        # Near miss: the one place that turns the configuration into constructor arguments.
        """
class BoxHead(nn.Module):
    @classmethod
    def from_config(cls, cfg):
        return {"num_conv": cfg.MODEL.ROI_BOX_HEAD.NUM_CONV, "dim": cfg.MODEL.ROI_BOX_HEAD.CONV_DIM}
""",
        # Near miss: a file that defines and upgrades the configuration.
        Example(
            """
def upgrade(cfg):
    cfg.MODEL.RETINANET.ANCHOR_SIZES = cfg.MODEL.ANCHOR_GENERATOR.SIZES
""",
            path="detector/config/compat.py",
        ),
        # Near miss: deep, but in JAX `params` holds weights, not configuration.
        """
def kernel(params):
    return params["params"]["Dense_0"]["kernel"]
""",
        # Near miss: setting up an SDK object attribute by attribute writes it, reads nothing.
        """
def docker_run_config():
    run_config = RunConfiguration()
    run_config.environment.docker.enabled = True
    run_config.environment.python.user_managed_dependencies = False
    return run_config
""",
    ),
    invalid=(
        Example(
            """
def build_encoder(cfg):
    layers = cfg["model"]["encoder"]["layers"]
    heads = cfg["model"]["encoder"]["heads"]
    return Encoder(layers, heads)
""",
            line=2,
        ),
        Example(
            """
class Trainer:
    def setup(self):
        self.batch_size = self.cfg.data.loader.batch_size
""",
            line=3,
        ),
        """
def learning_rate(train_config):
    return train_config.get("optim", {}).get("schedule", {}).get("base_lr", 1e-3)
""",
        """
CONFIG.model.head.num_classes = 10
""",
    ),
)

_CONFIG_NAMES = frozenset(
    {
        "cfg", "cfgs", "config", "configs", "conf", "confs", "hparams", "hyperparams",
        "hyperparameters", "hyp", "settings", "opt", "opts", "options", "args",
    }
)  # fmt: skip
_CONFIG_SUFFIXES = ("_cfg", "_config", "_conf", "_hparams", "_settings")
_SELF = frozenset({"self", "cls"})
_CONFIG_WORD = re.compile(r"config|cfg|(^|_)(conf|settings|hparams|hyp)($|_)")


@dataclass
class State:
    """Whether the file is left alone, and the configuration sections reported per function."""

    # Worked out from the path on first use; None until then.
    skip_file: bool | None = None
    # Keyed by the id of the enclosing function (of None at module level).
    sections: dict[int, list[tuple[str, ...]]] = field(default_factory=dict)
    # Names each function binds to an object it builds from a class (``RunConfiguration()``).
    built: dict[int, set[str]] = field(default_factory=dict)


def is_config_name(name: str) -> bool:
    lowered = name.lower().lstrip("_")
    return lowered in _CONFIG_NAMES or lowered.endswith(_CONFIG_SUFFIXES)


def config_root(node: cst.BaseExpression) -> str | None:
    """The config-like name an expression starts from (``cfg``, ``self.cfg``), else None."""
    if isinstance(node, cst.Name):
        return node.value if is_config_name(node.value) else None
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value in _SELF
        and is_config_name(node.attr.value)
    ):
        return f"{node.value.value}.{node.attr.value}"
    return None


def _string_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1:
        return None
    index = node.slice[0].slice
    if not isinstance(index, cst.Index):
        return None
    return string_value(index.value)


def _get_key(node: cst.Call) -> str | None:
    """``"k"`` for ``x.get("k")`` / ``x.get("k", default)``."""
    func = node.func
    if not (isinstance(func, cst.Attribute) and func.attr.value == "get"):
        return None
    if not node.args or len(node.args) > 2 or node.args[0].keyword is not None:
        return None
    return string_value(node.args[0].value)


def _inner(node: cst.CSTNode) -> cst.BaseExpression | None:
    """The expression one hop further in, when ``node`` is one hop of a chain."""
    if isinstance(node, cst.Attribute):
        return node.value
    if isinstance(node, cst.Subscript):
        return node.value if _string_key(node) is not None else None
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.value if _get_key(node) is not None else None
    return None


def _is_outermost(node: cst.CSTNode, ctx: Context) -> bool:
    parent = ctx.parent()
    if isinstance(node, cst.Attribute) and isinstance(parent, cst.Call) and parent.func is node:
        return False  # a method name, not a key; the chain ends at node.value
    if isinstance(parent, cst.Attribute) and parent.value is node:
        grandparent = ctx.parent(2)
        if isinstance(grandparent, cst.Call) and grandparent.func is parent:
            return _get_key(grandparent) is None  # `.get("k")` continues the chain
        return False
    if isinstance(parent, cst.Subscript) and parent.value is node:
        return _string_key(parent) is None
    return True


def _chain(node: cst.BaseExpression) -> tuple[str, list[str]] | None:
    """Root name and keys, outermost key last; None when the root is not configuration."""
    keys: list[str] = []
    current: cst.BaseExpression = node
    while True:
        root = config_root(current)
        if root is not None:
            keys.reverse()
            return root, keys
        inner = _inner(current)
        if inner is None:
            return None
        if isinstance(current, cst.Attribute):
            keys.append(current.attr.value)
        elif isinstance(current, cst.Subscript):
            keys.append(repr(_string_key(current)))
        else:
            keys.append(f"get({_get_key(current)!r})")
        current = inner


def _render(root: str, keys: list[str]) -> str:
    text = root
    for key in keys:
        text += f"[{key}]" if key[0] in "'\"" else f".{key}"
    return text


def _handles_config(name: str) -> bool:
    """Functions and files whose job is the configuration itself (``from_config``, ``setup_cfg``)."""
    return _CONFIG_WORD.search(name.lower()) is not None


def _skipped_file(ctx: Context[State]) -> bool:
    if ctx.state.skip_file is None:
        folders, _, filename = ctx.path.rpartition("/")
        ctx.state.skip_file = ctx.is_test or any(
            _handles_config(part) for part in [*folders.split("/"), filename.removesuffix(".py")]
        )
    return ctx.state.skip_file


def _check(node: cst.BaseExpression, ctx: Context[State]) -> None:
    if _inner(node) is None or not _is_outermost(node, ctx) or _skipped_file(ctx):
        return
    found = _chain(node)
    if found is None:
        return
    root, keys = found
    if len(keys) < int(ctx.options["min-depth"]):
        return
    scope = ctx.enclosing(cst.FunctionDef)
    if root in ctx.state.built.get(id(scope), ()):
        return  # an SDK object the function builds and sets up, not configuration it reads
    if scope is not None and _handles_config(scope.name.value):
        return
    # One finding per configuration section per function; a section nested in (or enclosing) one
    # already reported counts as the same.
    section = (root, *keys[:-1])
    reported = ctx.state.sections.setdefault(id(scope), [])
    for other in reported:
        shorter = min(len(other), len(section))
        if other[:shorter] == section[:shorter]:
            return
    reported.append(section)
    ctx.report(node, section=_render(root, keys[:-1]), depth=len(keys), root=root)


def visit_Attribute(node: cst.Attribute, ctx: Context[State]) -> None:
    _check(node, ctx)


def visit_Subscript(node: cst.Subscript, ctx: Context[State]) -> None:
    _check(node, ctx)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if isinstance(node.func, cst.Attribute) and node.func.attr.value == "get":
        _check(node, ctx)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if not isinstance(node.value, cst.Call):
        return
    callee = dotted(node.value.func) or ""
    if not callee.rsplit(".", 1)[-1][:1].isupper():
        return  # `cfg = load_config()` returns configuration; `RunConfiguration()` builds one
    scope = ctx.enclosing(cst.FunctionDef)
    for target in node.targets:
        if isinstance(target.target, cst.Name):
            ctx.state.built.setdefault(id(scope), set()).add(target.target.value)
