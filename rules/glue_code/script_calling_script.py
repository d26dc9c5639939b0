"""
What it does
------------
Flags ``subprocess.run``, ``call``, ``check_call``, ``check_output``, ``Popen``, ``os.system``
and ``os.popen`` calls that start another Python script of the project: ``python train.py``,
``python3 -m churn.evaluate``, ``[sys.executable, "prepare.py", ...]``,
``[sys.executable, script_path]``, an f-string, ``+`` or ``.format`` string starting with
``python``, or a local variable holding such a command.

Commands that run tools rather than project code are not flagged: ``git``, ``nvidia-smi``,
``python -m pip``, ``python -m pytest``, ``python setup.py``, ``python -c "..."``, nor a
program re-launching itself (``[sys.executable, *sys.argv]``), nor a file that also runs
``git checkout`` (a harness comparing revisions needs a fresh interpreter for each one).
Distributed launchers (``python -m torch.distributed.run``, ``torchrun``, ``accelerate launch``,
``deepspeed``) start one script in several processes, which no import can do: a call whose
command variable holds such a launcher in any of its branches is left alone, including the
single-process fallback. Test files are not flagged, since running a script end to end is a
legitimate smoke test.

Why is this bad?
----------------
Each script becomes a black box to the one calling it: arguments travel as strings, results
travel through files on disk or parsed stdout, and errors come back as an exit code with the
traceback lost in another process's output. Nothing checks that the two sides still agree on
argument names or file formats, so a rename in one script breaks the pipeline at run time only.
Pipelines built this way grow into the "pipeline jungle" that is hard to test and to change.

Example
-------
.. code-block:: python

    subprocess.run(["python", "prepare.py", "--out", "data/clean.parquet"], check=True)
    subprocess.run(f"python train.py --data data/clean.parquet --epochs {epochs}", shell=True)

Use instead
-----------
Import the functions and call them, passing Python objects:

.. code-block:: python

    from churn.prepare import prepare
    from churn.train import train

    clean = prepare(raw)
    model = train(clean, epochs=epochs)

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": glue code, pipeline jungles
- ruff ``S603``/``S605``/``S607`` (subprocess and shell calls), for the security side of the same calls
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.names import keyword, string_value

RULE = Rule(
    code="DEBT801",
    name="script-calling-script",
    principle="glue-code",
    severity="warning",
    message="Import and call the code of `{script}` instead of running it as a separate Python process.",
    valid=(
        # Near miss: subprocess for tools that are not Python code of the project.
        """
import subprocess

commit = subprocess.check_output(["git", "rev-parse", "HEAD"], text=True).strip()
gpus = subprocess.run("nvidia-smi --query-gpu=name --format=csv", shell=True, capture_output=True)
""",
        # Near miss: the interpreter is used to install a package, not to run a script.
        """
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "pip", "install", "lightgbm==4.3.0"])
""",
        """
import os
import sys

os.system("python -c 'import torch; print(torch.__version__)'")
os.execv(sys.executable, [sys.executable, *sys.argv])
""",
        # Near miss: a regression harness comparing two revisions of the code.
        """
import os

def evaluate(branch, model):
    os.system(f"git checkout {branch}")
    return os.system(f"python3 main.py --model {model} --output results/{branch}.json")
""",
        # Near miss: a program restarting itself after an update.
        """
import subprocess
import sys

def restart():
    subprocess.Popen([sys.executable, sys.argv[0], "--resume"])
""",
        # Near miss: restarting an interrupted job in the background, across GPUs when there are
        # several; the launcher starts one process per device, which no import can do.
        """
import subprocess

def relaunch(checkpoint, gpus):
    if gpus > 1:
        command = ["python", "-m", "torch.distributed.run", "--nproc_per_node", str(gpus),
                   "fit.py", "--resume", checkpoint]
    else:
        command = ["python", "fit.py", "--resume", checkpoint]
    subprocess.Popen(command, stdout=subprocess.DEVNULL)
    subprocess.run(["accelerate", "launch", "finetune.py"], check=True)
""",
        # Near miss: a smoke test of the command-line entry point.
        Example(
            """
import subprocess

def test_train_cli(tmp_path):
    subprocess.run(["python", "train.py", "--epochs", "1", "--out", str(tmp_path)], check=True)
""",
            path="tests/test_cli.py",
        ),
    ),
    invalid=(
        Example(
            """
import subprocess

subprocess.run(["python", "prepare.py", "--out", "data/clean.parquet"], check=True)
""",
            line=3,
        ),
        Example(
            """
import subprocess

def run_all(epochs):
    subprocess.run(f"python train.py --epochs {epochs}", shell=True, check=True)
""",
            line=4,
        ),
        """
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "churn.evaluate", "--split", "test"])
""",
        """
from os import system

system("python3 scripts/export_model.py --format onnx")
""",
        """
import subprocess

def pipeline(config):
    cmd = "python features.py --config {}".format(config)
    return subprocess.Popen(cmd, shell=True)
""",
        # A driver script running each step of the pipeline.
        """
import subprocess
import sys

STEPS = ["split.py", "preprocess.py", "train.py", "evaluate.py"]

def run(script_name):
    subprocess.run([sys.executable, script_name], check=True)
""",
        """
import subprocess
import sys

def retrain():
    subprocess.run(f"{sys.executable} train.py --resume", shell=True)
""",
    ),
)

_CALLS = frozenset(
    {
        "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
        "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput",
        "os.system", "os.popen",
    }
)  # fmt: skip
_SHORT_NAMES = frozenset(name.rsplit(".", 1)[1] for name in _CALLS)
_INTERPRETER = re.compile(r"^(.*[\\/])?(python|pythonw|python[23](\.\d+)?|py)(\.exe)?$")
_EXECUTABLE = "sys.executable"
# Modules that are tools, not project code.
_TOOLS = frozenset(
    {
        "pip", "ensurepip", "venv", "virtualenv", "pytest", "unittest", "doctest", "coverage",
        "build", "twine", "black", "ruff", "isort", "flake8", "mypy", "pylint", "pydoc",
        "http.server", "jupyter", "nbconvert", "notebook", "ipykernel", "spacy", "nltk.downloader",
        "pip_audit", "pre_commit", "sphinx", "mkdocs", "json.tool", "compileall", "timeit",
        "cProfile", "profile", "pdb", "py_compile", "tensorboard", "mlflow", "streamlit",
        # Launchers that start one training script in several processes: no import can do that.
        "torch.distributed.run", "torch.distributed.launch", "accelerate", "deepspeed", "horovod",
    }
)  # fmt: skip
# Programs that launch a script in several processes.
_LAUNCHERS = frozenset({"torchrun", "accelerate", "deepspeed", "horovod", "horovodrun"})
_LAUNCHER_MODULES = frozenset({"torch.distributed.run", "torch.distributed.launch"})
_PATH_CALLS = frozenset({"str", "os.path.join", "pathlib.Path", "os.fspath"})
# Values a command can be built from, remembered when assigned to a local name.
_COMMAND_VALUES = (
    cst.SimpleString, cst.FormattedString, cst.ConcatenatedString, cst.List, cst.Tuple,
    cst.Call, cst.BinaryOperation,
)  # fmt: skip
# Placeholders for interpolated values: the interpreter itself, or any other value.
_PYTHON = "\x00python"
_VALUE = "\x00value:"
# A computed script path worth naming: a variable, attribute or str()/os.path.join() of one,
# but not the running program itself (a process re-launching itself).
_SCRIPT_VALUE = re.compile(r"^(?!.*(__file__|sys\.argv))(str\(|os\.path\.join\()?[A-Za-z_][\w.]*")


@dataclass
class State:
    """Commands assigned to local names, and the script runs found, until the file is judged."""

    # Keyed by (id of the enclosing function, or 0 at module level; name): names are local.
    commands: dict[tuple[int, str], cst.BaseExpression] = field(default_factory=dict)
    # Names whose command goes through a distributed launcher in some branch.
    launchers: set[tuple[int, str]] = field(default_factory=set)
    # ``git checkout`` or ``git switch`` ran: a harness comparing revisions, left alone.
    checkout: bool = False
    found: list[tuple[cst.Call, str]] = field(default_factory=list)


def _tokens(node: cst.CSTNode | None, ctx: Context[State], depth: int = 0) -> list[str] | None:
    """The words of a command, best effort; None when it cannot be read."""
    if node is None or depth > 3:
        return None
    text = string_value(node)
    if text is not None:
        return _split(text)
    if isinstance(node, cst.FormattedString | cst.ConcatenatedString):
        text = _template(node, ctx)
        return None if text is None else _split(text)
    if isinstance(node, cst.List | cst.Tuple):
        words = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                break
            value = element.value
            word = string_value(value) or _named_string(value, ctx) or _path_tail(value, ctx)
            if word is None and ctx.qualified_name(value) == _EXECUTABLE:
                word = _PYTHON
            if word is None:
                word = _VALUE + ctx.code(value).replace(" ", "")
            words.append(word)
        return words
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left = _tokens(node.left, ctx, depth + 1)
        if left is None:
            return None
        if isinstance(node.right, cst.List | cst.Tuple):
            return left + (_tokens(node.right, ctx, depth + 1) or [])
        right = string_value(node.right)
        if right is None:
            return [*left, _VALUE]
        if isinstance(node.left, cst.List | cst.Tuple):
            return left + _split(right)
        return _split(" ".join(left) + right)
    if isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            return _tokens(func.value, ctx, depth + 1)
        if ctx.call_name(node) == "shlex.split" and node.args:
            return _tokens(node.args[0].value, ctx, depth + 1)
    if isinstance(node, cst.Name):
        command = ctx.state.commands.get((_scope(ctx), node.value))
        if command is not None:
            return _tokens(command, ctx, depth + 1)
    return None


def _template(node: cst.CSTNode, ctx: Context[State]) -> str | None:
    """The text of a (possibly formatted, possibly concatenated) string; values become
    placeholders, except the interpreter and names bound to a literal."""
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.ConcatenatedString):
        left, right = _template(node.left, ctx), _template(node.right, ctx)
        return None if left is None or right is None else left + right
    if not isinstance(node, cst.FormattedString):
        return None
    pieces = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            pieces.append(part.value)
        elif ctx.qualified_name(part.expression) == _EXECUTABLE:
            pieces.append(_PYTHON)
        else:
            value = _VALUE + ctx.code(part.expression).replace(" ", "")
            pieces.append(_named_string(part.expression, ctx) or value)
    return "".join(pieces)


def _path_tail(node: cst.CSTNode, ctx: Context, depth: int = 0) -> str | None:
    """``train.py`` for ``ROOT / "train.py"``, ``str(...)`` or ``os.path.join(..., "train.py")``."""
    if depth > 3:
        return None
    text = string_value(node)
    if text is not None:
        return text
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        return _path_tail(node.right, ctx, depth + 1)
    if isinstance(node, cst.Call) and node.args and ctx.call_name(node) in _PATH_CALLS:
        return _path_tail(node.args[-1].value, ctx, depth + 1)
    return None


def _named_string(node: cst.CSTNode, ctx: Context[State]) -> str | None:
    """The literal a local name was assigned, e.g. ``script = "train.py"``."""
    if not isinstance(node, cst.Name):
        return None
    value = ctx.state.commands.get((_scope(ctx), node.value))
    return string_value(value) if value is not None else None


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _script(words: list[str]) -> str | None:
    """The script or module a command runs with Python, or None."""
    if not words:
        return None
    first = words[0]
    if first != _PYTHON and not _INTERPRETER.match(first):
        return None
    rest = words[1:]
    for index, word in enumerate(rest):
        if word == "-m":
            module = rest[index + 1] if index + 1 < len(rest) else ""
            if not module or module.startswith("\x00") or module in _TOOLS:
                return None
            if module.split(".", 1)[0] in _TOOLS:
                return None
            if _VALUE in module:
                return None  # ``-m run.{job_name}``: a launcher of jobs chosen at run time
            return module
        if word.startswith("-c") or word == "-":
            return None
        if word in ("-W", "-X") or (index > 0 and rest[index - 1] in ("-W", "-X")):
            continue
        if word.startswith("-"):
            continue
        if word.startswith(_VALUE):
            # A script whose path is computed: ``[sys.executable, script_path]``.
            expression = word[len(_VALUE) :]
            return expression if _SCRIPT_VALUE.match(expression) else None
        if word.endswith(".py"):
            # setup.py runs packaging, not project code.
            return None if word.rsplit("/", 1)[-1] == "setup.py" else word
        return None
    return None


def _launches(words: list[str]) -> bool:
    """Whether a command goes through a distributed launcher."""
    if not words:
        return False
    program = words[0].rsplit("/", 1)[-1]
    if program in _LAUNCHERS:
        return True
    if program != _PYTHON and not _INTERPRETER.match(words[0]):
        return False
    for index, word in enumerate(words[1:-1], start=1):
        if word == "-m":
            module = words[index + 1]
            return module in _LAUNCHER_MODULES or module.split(".", 1)[0] in _LAUNCHERS
    return False


def _scope(ctx: Context) -> int:
    function = ctx.enclosing(cst.FunctionDef)
    return id(function) if function is not None else 0


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
        return
    value = node.value
    if not isinstance(value, _COMMAND_VALUES):
        return
    key = (_scope(ctx), node.targets[0].target.value)
    ctx.state.commands[key] = value
    # One branch launching several processes makes the variable a launcher command in all.
    if _launches(_tokens(value, ctx) or []):
        ctx.state.launchers.add(key)


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    func = node.func
    short = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    if short not in _SHORT_NAMES:
        return
    if ctx.call_name(node) not in _CALLS or ctx.is_test:
        return
    argument = keyword(node, "args") or keyword(node, "cmd") or keyword(node, "command")
    if argument is None and node.args and node.args[0].keyword is None:
        argument = node.args[0]
    if argument is None:
        return
    value = argument.value
    if isinstance(value, cst.Name) and (_scope(ctx), value.value) in ctx.state.launchers:
        return
    words = _tokens(value, ctx) or []
    if words[:1] == ["git"] and words[1:2] in (["checkout"], ["switch"]):
        ctx.state.checkout = True
        return
    script = _script(words)
    if script is not None:
        ctx.state.found.append((node, script))


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    # A harness that checks out other revisions must start a fresh interpreter for each one.
    if ctx.state.checkout:
        return
    for call, script in ctx.state.found:
        ctx.report(call, script=script)
