"""
What it does
------------
Flags an import of a private module of a third-party package: a module path with a part that
starts with an underscore (``_runtime_utils``, not a dunder such as ``__init__``) below the
package's top level, as in ``from torch.distributed.fsdp._common_utils import
_is_fsdp_flattened`` or ``import sklearn.utils._testing``.

Left alone: the project's own packages (a top-level name that is a folder or module of the
repository), the standard library, relative imports, and imports inside ``try`` blocks, whose
fallback already expects the module to move.

Why is this bad?
----------------
A leading underscore is the library's way of saying "not part of the API". Private modules are
renamed, split, merged and deleted in minor and patch releases without a deprecation warning, so
the next routine upgrade of the dependency breaks the training or serving code with an
``ImportError``, or, worse, keeps importing a function whose behaviour quietly changed. The
dependency now pins the project to one narrow range of versions that nothing records.

Example
-------
.. code-block:: python

    from torch.distributed.fsdp._common_utils import _is_fsdp_flattened
    from torch.utils.data._utils.collate import default_collate

Use instead
-----------
Import the public name where the library documents it, or write the few lines you need:

.. code-block:: python

    from torch.utils.data import default_collate

When only the private module does the job, pin the dependency's version and cover the use with a
test, so that an upgrade fails loudly in CI instead of in production.

References
----------
- PEP 8, "Public and internal interfaces": names with a leading underscore are internal
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable dependencies
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted

RULE = Rule(
    code="DEBT710",
    name="private-module-import",
    principle="data-dependencies",
    severity="warning",
    # Off by default since held-out set 3 (benchmarks/precision.md, issue 11): its one comment
    # there was on a project importing the internals of its own organisation's library.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out set 3 (issue 11), below 80%",
    message="Use a public API of `{package}` instead of its private module `{module}`: private modules change or disappear in any release without notice.",
    valid=(
        "from torch.utils.data import default_collate\n",
        # Near miss: a private module of the project itself.
        Example(
            "from utils._fsdp import wrap_policy\n",
            path="train.py",
            files=("utils/__init__.py", "utils/_fsdp.py"),
        ),
        # Near miss: the standard library, and a relative import.
        "from importlib._bootstrap import module_from_spec\nfrom ._helpers import seed\n",
        # Near miss: a guarded import, whose fallback expects the module to move.
        """
try:
    from torch._six import inf
except ImportError:
    from torch import inf
""",
    ),
    invalid=(
        Example(
            "from torch.distributed.fsdp._common_utils import _is_fsdp_flattened\n",
            line=1,
        ),
        Example("import numpy as np\nimport sklearn.utils._testing as testing\n", line=2),
    ),
)


@dataclass
class State:
    guarded: int = 0  # depth of ``try`` blocks around the node visited


_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def visit_Try(node: cst.Try, ctx: Context[State]) -> None:
    ctx.state.guarded += 1


def leave_Try(node: cst.Try, ctx: Context[State]) -> None:
    ctx.state.guarded -= 1


def visit_ImportFrom(node: cst.ImportFrom, ctx: Context[State]) -> None:
    if node.relative or node.module is None or ctx.state.guarded:
        return
    _judge(node, dotted(node.module), ctx)


def visit_Import(node: cst.Import, ctx: Context[State]) -> None:
    if ctx.state.guarded:
        return
    for alias in node.names:
        if _judge(node, dotted(alias.name), ctx):
            return


def _judge(node: cst.CSTNode, module: str | None, ctx: Context[State]) -> bool:
    if not module:
        return False
    parts = module.split(".")
    private = next((i for i, part in enumerate(parts) if i and _private(part)), None)
    if private is None or parts[0] in _STDLIB or parts[0] in _local_names(ctx.files):
        return False
    ctx.report(node, package=parts[0], module=".".join(parts[: private + 1]))
    return True


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


_LOCAL: dict[int, tuple[Collection[str], frozenset[str]]] = {}


def _local_names(files: Collection[str]) -> frozenset[str]:
    """Every folder and module name of the repository: a top-level name among them may be the
    project's own package (found on ``sys.path`` from a ``src/`` layout or a script's folder)."""
    cached = _LOCAL.get(id(files))
    if cached is not None and cached[0] is files:
        return cached[1]
    names: set[str] = set()
    for path in files:
        parts = path.split("/")
        names.update(parts[:-1])
        if parts[-1].endswith((".py", ".pyi", ".so", ".pyd")):
            names.add(parts[-1].split(".", 1)[0])
    _LOCAL.clear()
    _LOCAL[id(files)] = (files, frozenset(names))
    return _LOCAL[id(files)][1]
