"""
What it does
------------
Flags a program that installs a package while it runs, when the version it installs is not
fixed:

- a shell command run with ``os.system``, ``os.popen``, ``subprocess.run``, ``call``,
  ``check_call``, ``check_output`` or ``Popen``: ``"pip install transformers"``,
  ``[sys.executable, "-m", "pip", "install", "timm"]``;
- pip's own entry point: ``pip.main(["install", "timm"])``.

A package is unpinned when it carries no ``==`` version, and a repository installed from git
(``git+https://github.com/org/repo``) is unpinned unless a commit or a release tag follows the
``@`` (a branch such as ``@master`` moves). Only literal package names are judged: a name in a
variable may come from a pinned list. Local wheels and archives, ``-r requirements.txt``,
``pip install -e .``, notebooks and their exports, tests, documentation, examples and setup or
install scripts (``setup.py``, ``install.py``, ``noxfile.py``) are left alone.

Why is this bad?
----------------
The dependency is written nowhere a reader or a tool looks: not in the requirements, not in the
image. Every run installs whatever version the index or the branch holds that day, so two runs
of the same commit can train or predict with different code, and the job fails outright when
the network or the branch goes away. The environment the model was evaluated in cannot be
rebuilt.

Example
-------
.. code-block:: python

    import os

    os.system("pip install git+https://github.com/NVIDIA/apex")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "timm"])

Use instead
-----------
Declare the dependency, pinned, where the environment is built (requirements, ``pyproject.toml``,
the Dockerfile), and import it:

.. code-block:: text

    # requirements.txt
    timm==0.9.12
    apex @ git+https://github.com/NVIDIA/apex@22.04-dev

References
----------
- pip documentation: requirement specifiers and VCS support (``@`` a commit or tag)
- Python Packaging User Guide: declaring dependencies
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import re
import shlex

import libcst as cst

from rules import Context, Example, Rule
from rules.names import string_value

RULE = Rule(
    code="DEBT708",
    name="runtime-install",
    principle="data-dependencies",
    severity="warning",
    message="Declare `{package}` with a pinned version in the project's dependencies instead of installing it while the program runs.",
    valid=(
        # Near miss: pinned to one version and to one commit.
        """
import os
import subprocess
os.system("pip install timm==0.9.12")
subprocess.run(["pip", "install", "git+https://github.com/org/lib@3f2a9c1d"])
""",
        # Near miss: the package name comes from a variable, and a local wheel.
        """
import subprocess, sys
def ensure(requirement):
    subprocess.check_call([sys.executable, "-m", "pip", "install", requirement])
subprocess.check_call("pip install ../input/wheels/timm-0.9.12-py3-none-any.whl", shell=True)
""",
        # Near miss: the project's own requirements and the project itself.
        """
import os
os.system("pip install -r requirements.txt && pip install -e .")
""",
        # Near miss: an install script is where installing belongs.
        Example(
            """
import subprocess
subprocess.check_call(["pip", "install", "torch"])
""",
            path="scripts/install.py",
        ),
        # Near miss: a notebook export installs in its first cell.
        """
get_ipython().system('pip install transformers')
import os
os.system("pip install datasets")
""",
    ),
    invalid=(
        Example(
            """
import os

if use_amp:
    os.system("pip install git+https://github.com/NVIDIA/apex")
""",
            line=4,
        ),
        Example(
            """
import subprocess
import sys

try:
    import timm
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "timm>=0.6"])
""",
            line=7,
        ),
        """
import pip
pip.main(["install", "--upgrade", "lightgbm"])
""",
        """
from subprocess import run
run("pip3 install --quiet sentencepiece && python train.py", shell=True)
""",
        """
import os
os.system("pip install -U git+https://github.com/openai/CLIP.git@main")
""",
    ),
)

_SHELL_CALLS = frozenset(
    {
        "os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.check_call",
        "subprocess.check_output", "subprocess.Popen", "subprocess.getoutput",
        "subprocess.getstatusoutput",
    }
)  # fmt: skip
_PIP_MAINS = frozenset({"pip.main", "pip._internal.main", "pip._internal.cli.main.main"})
_LAST_NAMES = frozenset(
    {"system", "popen", "run", "call", "check_call", "check_output", "Popen", "getoutput",
     "getstatusoutput", "main"}
)  # fmt: skip
# pip options that take a value: the value is not a package.
_OPTIONS_WITH_VALUE = frozenset(
    {
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
        "--prefix", "--root", "-c", "--constraint", "--trusted-host", "--cache-dir", "--src",
        "--platform", "--python-version", "--implementation", "--abi", "--progress-bar",
        "--upgrade-strategy", "--log", "--proxy", "--timeout", "--retries", "--config-settings",
        "-C", "--report", "--global-option", "--install-option",
    }
)  # fmt: skip
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&"})
_HOLE = "\x00"
_EXCLUDED_DIRS = frozenset(
    {
        "docs", "doc", "examples", "example", "tutorials", "tutorial", "notebooks", "notebook",
        "demo", "demos", "samples", "sample",
    }
)  # fmt: skip
_EXCLUDED_FILE = re.compile(
    r"^(setup|install|installer|noxfile|conftest|bootstrap|build|env|environment|hubconf)"
    r"([_-][\w-]*)?\.py$"
)
# A notebook exported to Python: its cell markers, or magics turned into calls.
_NOTEBOOK_EXPORT = re.compile(r"^(# In\[[0-9 ]*\]:|get_ipython\(\)\.)", re.MULTILINE)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,.-]+\])?")
_FIXED_REF = re.compile(r"^(v?\d+(\.\d+)+[\w.-]*|[0-9a-f]{7,40})$")


def _words(node: cst.BaseExpression) -> list[str] | None:
    """The words of a command: a string split as a shell would, or a list of strings; an
    expression that is not text becomes a hole."""
    if isinstance(node, cst.List | cst.Tuple):
        words = []
        for element in node.elements:
            text = string_value(element.value)
            words.append(_HOLE if text is None or " " in text.strip() else text)
        return words
    text = _text(node)
    if text is None:
        return None
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        return list(lexer)
    except ValueError:
        return None


def _text(node: cst.BaseExpression) -> str | None:
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.FormattedString):
        return "".join(
            part.value if isinstance(part, cst.FormattedStringText) else _HOLE
            for part in node.parts
        )
    return None


def _installed(words: list[str]) -> list[str]:
    """The requirements a command installs with pip; a hole for each one not written out."""
    found: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        pip = word.rsplit("/", 1)[-1]
        if pip in ("pip", "pip3") and index + 1 < len(words) and words[index + 1] == "install":
            index += 2
            while index < len(words) and words[index] not in _SEPARATORS:
                argument = words[index]
                if argument in _OPTIONS_WITH_VALUE or argument in ("-r", "--requirement"):
                    found.append(_HOLE if argument in ("-r", "--requirement") else "")
                    index += 2
                    continue
                if argument in ("-e", "--editable"):
                    found.append(_HOLE)
                    index += 2
                    continue
                if not argument.startswith("-"):
                    found.append(argument)
                index += 1
        index += 1
    return [item for item in found if item]


def _unpinned(requirement: str) -> bool:
    if _HOLE in requirement or "{" in requirement or "$" in requirement:
        return False
    if requirement.startswith((".", "/", "~")) or (
        "://" in requirement and "git+" not in requirement
    ):
        return False  # a local path, a wheel or an archive
    if requirement.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
        return False
    if "git+" in requirement:
        location = requirement.split("git+", 1)[1]
        path = location.split("://", 1)[-1]
        if "@" not in path.split("#", 1)[0].split("/", 1)[-1]:
            return True
        ref = path.split("#", 1)[0].rsplit("@", 1)[1]
        return not _FIXED_REF.match(ref)
    if not _NAME.match(requirement):
        return False
    return "==" not in requirement and " @ " not in requirement


def _excluded(ctx: Context) -> bool:
    if ctx.is_test:
        return True
    parts = ctx.path.lower().split("/")
    if _EXCLUDED_FILE.match(parts[-1]) or any(part in _EXCLUDED_DIRS for part in parts[:-1]):
        return True
    return bool(_NOTEBOOK_EXPORT.search(ctx.text))


def visit_Call(node: cst.Call, ctx: Context) -> None:
    func = node.func
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    if last not in _LAST_NAMES or not node.args or node.args[0].keyword is not None:
        return
    name = ctx.call_name(node)
    if name in _PIP_MAINS:
        words = _words(node.args[0].value)
        words = ["pip", *words] if words is not None else None
    elif name in _SHELL_CALLS:
        words = _words(node.args[0].value)
    else:
        return
    if not words:
        return
    for requirement in _installed(words):
        if _unpinned(requirement):
            if not _excluded(ctx):
                ctx.report(node, package=requirement)
            return
