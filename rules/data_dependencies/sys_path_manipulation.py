"""
What it does
------------
Flags code that changes where Python looks for imports at run time: ``sys.path.append``,
``sys.path.insert``, ``sys.path.extend``, ``sys.path += [...]``, assigning to ``sys.path`` or
one of its slices, and ``site.addsitedir``.

``conftest.py``, Sphinx's ``docs/conf.py``, ``hubconf.py`` and test files are not flagged:
pointing the test runner, the documentation build or ``torch.hub`` (which loads a repository
without installing it) at the sources is what those files are for. Reading
``sys.path`` (``if root not in sys.path``) is not flagged either.

The rule also flags the common script preamble that appends the script's own folder
(``sys.path.append(str(ROOT))``): the code still only imports when laid out exactly as on the
author's disk, and every module that does it hides the real package structure from tools and
readers. A project made of scripts run from a checkout can silence the rule for those files with
``per-file-ignores``.

Why is this bad?
----------------
The modules a pipeline imports then depend on the folder it is started from and on the files
that happen to sit next to it. A training job run from another directory, a scheduler, a
notebook or a container with a different layout imports a different copy of a module or fails
with ``ModuleNotFoundError``. The dependency between the pieces of code is real but written
nowhere a tool can see, which makes the glue between scripts fragile and hard to refactor.

Example
-------
.. code-block:: python

    import sys
    sys.path.append("../feature_store")
    from features import build_features

Use instead
-----------
Make the code a package with a ``pyproject.toml`` and install it (``pip install -e .``), then
import it by its package name:

.. code-block:: python

    from churn.features import build_features

References
----------
- Python Packaging User Guide: packaging projects, editable installs
- pytest documentation: good integration practices (``src`` layout, ``pythonpath`` setting)
- pylint ``C0413`` (wrong-import-position) often points at the same hack
"""

from __future__ import annotations

import re

import libcst as cst

from rules import Context, Example, Rule
from rules.names import dotted

RULE = Rule(
    code="DEBT702",
    name="sys-path-manipulation",
    principle="data-dependencies",
    severity="warning",
    message="Install the code as a package and import it by name instead of changing `sys.path` with `{how}`.",
    valid=(
        # Near miss: reading sys.path changes nothing.
        """
import sys

if "/opt/plugins" not in sys.path:
    print("plugins are not importable")
""",
        # Near miss: a conftest pointing pytest at the sources is what it is for.
        Example(
            """
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))
""",
            path="conftest.py",
        ),
        Example(
            """
import os
import sys

sys.path.insert(0, os.path.abspath(".."))
project = "churn-model"
""",
            path="docs/conf.py",
        ),
        Example(
            """
import sys

sys.path.append("..")
from train import build_model
""",
            path="tests/test_train.py",
        ),
        Example(
            """
import os
import sys

sys.path.append(os.path.join(os.path.dirname(__file__), "src"))
dependencies = ["torch", "transformers"]
""",
            path="hubconf.py",
        ),
        # Near miss: a local list called path, not sys.path.
        """
path = []
path.append("features")
""",
    ),
    invalid=(
        Example(
            """
import sys

sys.path.append("../feature_store")
from features import build_features
""",
            line=3,
        ),
        Example(
            """
import sys
from pathlib import Path

FILE = Path(__file__).resolve()
ROOT = FILE.parents[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
""",
            line=7,
        ),
        """
from sys import path

path.insert(0, "/opt/ml/code")
""",
        """
import sys

sys.path += ["../common"]
""",
        """
import site

site.addsitedir("vendor")
""",
    ),
)

_CALLS = frozenset({"sys.path.append", "sys.path.insert", "sys.path.extend", "site.addsitedir"})
_EXEMPT = re.compile(r"(^|/)(conftest|hubconf)\.py$|(^|/)[^/]*docs?/(.*/)?conf\.py$")


def _exempt(ctx: Context) -> bool:
    return ctx.is_test or bool(_EXEMPT.search(ctx.path))


def visit_Call(node: cst.Call, ctx: Context) -> None:
    if not isinstance(node.func, cst.Attribute):
        return
    attr = node.func.attr.value
    if attr not in ("append", "insert", "extend", "addsitedir"):
        return
    name = ctx.call_name(node)
    if name in _CALLS and not _exempt(ctx):
        ctx.report(node, how=dotted(node.func) or name)


def _is_sys_path(target: cst.BaseExpression, ctx: Context) -> bool:
    if isinstance(target, cst.Subscript):
        target = target.value
    return ctx.qualified_name(target) == "sys.path"


def visit_AugAssign(node: cst.AugAssign, ctx: Context) -> None:
    if _is_sys_path(node.target, ctx) and not _exempt(ctx):
        ctx.report(node, how=f"{ctx.code(node.target)} {ctx.code(node.operator).strip()}")


def visit_Assign(node: cst.Assign, ctx: Context) -> None:
    for target in node.targets:
        if _is_sys_path(target.target, ctx) and not _exempt(ctx):
            ctx.report(node, how=f"{ctx.code(target.target)} =")
            return
