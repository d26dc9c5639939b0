"""
What it does
------------
Flags a shell launcher (``*.sh``, ``*.bash``, a ``Makefile``) that starts a Python job with a
path only one machine has: a folder in one person's home (``/home/alice/...``,
``/Users/bob/...``, ``C:\\Users\\bob\\...``), another Windows drive path, or a Google Drive
mounted in Colab (``/content/drive/...``). The path is flagged when it is

- an argument of the job (``--resume /home/alice/ckpt/last.pt``, ``--data_dir=/Users/bob/data``,
  ``data.root=/home/alice/data`` for Hydra) or an environment variable set for that one command
  (``DATA=/home/alice/data python train.py``);
- stored in a variable the job's command line uses (``DATA=/home/alice/data`` then
  ``python train.py --data "$DATA"``, also through another variable);
- exported (``export DATASET_ROOT=/home/alice/datasets``) by a script that starts a Python job,
  which inherits it.

A job is a command that runs ``python``, ``torchrun``, ``deepspeed``, ``accelerate``,
``horovodrun``, ``uvicorn``, ``gunicorn`` or a ``.py`` file, possibly behind ``nohup``, ``env``,
``srun``, ``mpirun``, ``conda run`` and their kin. One finding covers one command or one
variable, naming the first path.

Left alone: paths built from ``$HOME``, ``~`` or other variables, template user names
(``/home/$USER``, ``/home/<user>``), shared mount points that clusters and containers provide on
every machine (``/data``, ``/mnt``, ``/workspace``, ``/opt``, ``/tmp``, ``/usr``), comments,
shebangs, text a command only prints (``echo "python train.py --data /home/..."``), here-documents,
and scripts that start no Python job.

Why is this bad?
----------------
The launcher is where a training run is made repeatable: which data, which checkpoint, which
output folder. A path in someone's home folder makes the script fail on every other machine, the
training cluster and CI included, or silently read another copy of the data left at the same
place. Colleagues then keep private edited copies of the launcher, and nobody can tell any more
which command produced which model.

Example
-------
.. code-block:: bash

    export DATASET_ROOT=/home/alice/datasets/alaska2
    python train.py --resume /home/alice/runs/exp12/checkpoints/last.pt

Use instead
-----------
Take the locations from the environment or the command line, with a clear error when missing,
or use paths relative to the project:

.. code-block:: bash

    export DATASET_ROOT="${DATASET_ROOT:?set DATASET_ROOT to the data folder}"
    python train.py --resume "runs/exp12/checkpoints/last.pt"

References
----------
- The Twelve-Factor App: III. Config (keep deployment specifics in the environment)
- DEBT701 ``machine-specific-data-path``: the same paths written in Python code
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from rules import Context, Example, Rule
from rules.ml.locations import MACHINE_PATH_START, machine_specific

RULE = Rule(
    code="DEBT706",
    name="machine-path-in-launcher",
    principle="data-dependencies",
    severity="warning",
    message='Replace `{path}`{more}, a path that exists on one machine only, with a variable the launcher is given (`"$DATA_DIR"`) or a path relative to the project.',
    files=("*.sh", "*.bash", "Makefile"),
    valid=(
        # Near miss: the home folder and the data folder come from the machine running it.
        """
#!/usr/bin/env bash
DATA_DIR="${DATA_DIR:-$HOME/datasets/alaska2}"
python train.py --data-dir "$DATA_DIR" --resume ~/runs/last.pt
""",
        # Near miss: shared mount points, the same on every node of the cluster.
        """
export DATASET_ROOT=/data/alaska2
torchrun --nproc_per_node=4 train.py --output /workspace/runs --cache /mnt/cache
""",
        # Near miss: commented out, and only printed.
        """
# python train.py --resume /home/alice/runs/last.pt
echo "run: python train.py --data_dir /home/alice/data"
""",
        # Near miss: no Python job is started with the path.
        """
rsync -av /home/alice/datasets/ remote:/data/
""",
        # Near miss: a template for the user to fill in.
        """
python train.py --data /home/$USER/datasets --out /home/${USER}/runs
""",
    ),
    invalid=(
        Example(
            """
#!/bin/bash
python -m torch.distributed.launch --nproc_per_node=4 train.py \\
  -b 20 --epochs 50 \\
  --transfer /home/alice/develop/runs/F_Jun29/checkpoints/best.pth
""",
            line=4,
            path="scripts/train_b3.sh",
        ),
        Example(
            """
export DATASET_ROOT=/home/bob/datasets/alaska2

python train.py --fold 0
""",
            line=1,
            path="scripts/train_fold0.sh",
        ),
        Example(
            """
DATA=/Users/bob/data
python train.py --data_dir=$DATA
""",
            line=1,
            path="run.sh",
        ),
        Example(
            """
python3 train.py \\
    --data_dir '/content/data/' \\
    --model_dir '/content/drive/My Drive/experiments/baseline'
""",
            line=3,
            path="launchers/launch_train.sh",
        ),
        Example(
            """
train:
\tpython src/train.py data.root=/home/alice/data
""",
            path="Makefile",
            line=2,
        ),
    ),
)


@dataclass(frozen=True)
class _Word:
    value: str  # the word as the shell sees it, quotes removed
    quoted: bool  # the word begins with a quote: a value, never a program or an assignment
    start: int  # offset of the word in its logical line


@dataclass(frozen=True)
class _Command:
    words: tuple[_Word, ...]
    line: int  # the logical line's index


@dataclass
class _Variable:
    name: str
    value: str
    exported: bool
    # Where the machine paths of its value are: (offset in the logical line, path).
    paths: list[tuple[int, str]]
    line: int


# Programs that run Python, by their file name.
_PYTHON = re.compile(
    r"^(python[0-9.]*|pythonw|ipython|pypy3?|torchrun|deepspeed|accelerate|horovodrun"
    r"|uvicorn|gunicorn)$"
)
# Programs that run another program given later on their command line.
_WRAPPERS = frozenset(
    {
        "nohup", "time", "env", "exec", "sudo", "nice", "ionice", "timeout", "stdbuf",
        "numactl", "taskset", "xvfb-run", "srun", "sbatch", "salloc", "mpirun", "mpiexec",
        "conda", "mamba", "micromamba", "poetry", "pipenv", "uv", "pdm", "hatch", "rye",
        "command", "caffeinate", "optirun", "primusrun", "singularity", "apptainer",
    }
)  # fmt: skip
_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)$", re.DOTALL)
_MAKE_ASSIGNMENT = re.compile(
    r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?::{1,3}|\?|\+|!)?=\s*(.*)$"
)
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_OPERATORS = ("&&", "||", ";", "|", "&")
# Where, inside a word, a path may begin: its start, or after `=`, `:`, `,` or a quote.
_PATH_BOUNDARY = frozenset("=:,'\"(")
# A path ends at the end of its word (spaces of a quoted word included), or at a separator: a
# colon of a list (PATH=/a:/b), not the one of a Windows drive.
_PATH_END = re.compile(r"[,;'\"()]|:(?![\\/])")


def _logical_lines(lines: list[str], makefile: bool) -> list[tuple[str, list[tuple[int, int]]]]:
    """Commands joined across trailing backslashes, comments and here-documents dropped; with
    where each physical line starts in the joined text, as (offset, 1-based line)."""
    joined: list[tuple[str, list[tuple[int, int]]]] = []
    text, starts = "", []
    terminator = None
    for number, raw in enumerate(lines, start=1):
        if terminator is not None:
            if raw.strip() == terminator:
                terminator = None
            continue
        stripped = raw.lstrip()
        if stripped.startswith("#") and not text:
            continue
        if stripped.startswith("#"):
            # A comment inside a continued command ends it: its backslash is part of the comment.
            joined.append((text, starts))
            text, starts = "", []
            continue
        body = _without_comment(raw)
        if makefile and raw.startswith("\t"):
            body = body.lstrip("\t").lstrip("@-+")
        heredoc = _HEREDOC.search(body)
        if heredoc is not None and not makefile:
            terminator = heredoc.group(2)
        starts.append((len(text), number))
        if body.rstrip().endswith("\\") and terminator is None:
            text += body.rstrip()[:-1] + " "
            continue
        text += body
        joined.append((text, starts))
        text, starts = "", []
    if text:
        joined.append((text, starts))
    return joined


def _without_comment(line: str) -> str:
    """The line up to a ``#`` that starts a word outside quotes."""
    quote = None
    previous = " "
    for index, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "#" and previous.isspace():
            return line[:index]
        previous = char
    return line


def _commands(text: str, line: int) -> list[_Command]:
    """The simple commands of a logical line, split on ``;``, ``&&``, ``||``, ``|`` and ``&``."""
    commands: list[_Command] = []
    words: list[_Word] = []
    value, quoted, start = "", False, -1
    quote = None
    index = 0

    def finish_word() -> None:
        nonlocal value, quoted, start
        if start >= 0:
            words.append(_Word(value, quoted, start))
        value, quoted, start = "", False, -1

    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == quote:
                quote = None
            else:
                value += char
            index += 1
            continue
        if char in "'\"":
            quote = char
            if start < 0:
                quoted, start = True, index
            index += 1
            continue
        if char.isspace():
            finish_word()
            index += 1
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, index)), None)
        if operator is not None and not text.startswith(">&", index - 1):
            finish_word()
            if words:
                commands.append(_Command(tuple(words), line))
            words = []
            index += len(operator)
            continue
        start = index if start < 0 else start
        value += char
        index += 1
    finish_word()
    if words:
        commands.append(_Command(tuple(words), line))
    return commands


def _program(command: _Command) -> int | None:
    """The index of the word naming the program a command runs, past its assignments."""
    for index, word in enumerate(command.words):
        if not word.quoted and _ASSIGNMENT.match(word.value):
            continue
        return index
    return None


def _runs_python(command: _Command) -> bool:
    index = _program(command)
    if index is None:
        return False
    words = command.words
    first = words[index]
    if first.quoted or first.value in ("export", "declare", "local", "readonly", "echo"):
        return False
    name = posixpath.basename(first.value)
    if _PYTHON.match(name) or name.endswith(".py"):
        return True
    if name in _WRAPPERS or first.value.startswith("$"):
        return any(
            not w.quoted and (_PYTHON.match(posixpath.basename(w.value)) or w.value.endswith(".py"))
            for w in words[index + 1 :]
        )
    return False


def _machine_paths(word: _Word) -> list[tuple[int, str]]:
    """The machine paths inside a word, with their offsets in the logical line."""
    found = []
    value = word.value
    for match in MACHINE_PATH_START.finditer(value):
        at = match.start()
        if at > 0 and value[at - 1] not in _PATH_BOUNDARY:
            continue
        end = _PATH_END.search(value, at + 2)
        path = value[at : end.start() if end else len(value)]
        if machine_specific(path):
            # Quotes removed from the word shift the offset; the word's start is near enough.
            found.append((word.start + (0 if word.quoted else at), path))
    return found


_SHELL_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_MAKE_REFERENCE = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)")


def _references(text: str, makefile: bool) -> set[str]:
    """The variables a text expands: ``$NAME``, ``${NAME}``, and ``$(NAME)`` in a Makefile."""
    names = set(_SHELL_REFERENCE.findall(text))
    if makefile:
        names.update(_MAKE_REFERENCE.findall(text))
    return names


def _place(offset: int, starts: list[tuple[int, int]]) -> int:
    """The physical line an offset of a logical line falls on."""
    line = starts[0][1]
    for start, number in starts:
        if start <= offset:
            line = number
    return line


def _variables(command: _Command, makefile_line: str | None = None) -> list[_Variable]:
    """The variables a command only assigns (``NAME=value``, ``export NAME=value``)."""
    if makefile_line is not None:
        match = _MAKE_ASSIGNMENT.match(makefile_line.strip())
        if match is None:
            return []
        name, value = match.group(1), match.group(2)
        word = _Word(value, False, makefile_line.find(value))
        exported = makefile_line.lstrip().startswith("export")
        return [_Variable(name, value, exported, _machine_paths(word), command.line)]
    words = list(command.words)
    exported = False
    if words and not words[0].quoted and words[0].value in ("export", "declare", "readonly"):
        exported = words[0].value == "export"
        words = [w for w in words[1:] if not w.value.startswith("-")]
        exported = exported or any(w.value == "-x" for w in command.words[1:])
    found = []
    for word in words:
        match = _ASSIGNMENT.match(word.value) if not word.value.startswith("=") else None
        if match is None:
            return [] if not exported else found  # a command with its own environment
        found.append(
            _Variable(match.group(1), match.group(2), exported, _machine_paths(word), command.line)
        )
    return found


def check(ctx: Context) -> None:
    makefile = ctx.path.rsplit("/", 1)[-1] == "Makefile"
    logical = _logical_lines(ctx.lines, makefile)
    variables: list[_Variable] = []
    exported_later: set[str] = set()
    jobs: list[tuple[_Command, list[tuple[int, int]]]] = []
    for index, (text, starts) in enumerate(logical):
        recipe = makefile and bool(starts) and ctx.lines[starts[0][1] - 1].startswith("\t")
        assignment = makefile and not recipe and _MAKE_ASSIGNMENT.match(text.strip())
        if assignment:
            command = _Command((), index)
            variables.extend(_variables(command, text))
            continue
        for command in _commands(text, index):
            if _runs_python(command):
                jobs.append((command, starts))
                continue
            variables.extend(_variables(command))
            words = command.words
            if words and words[0].value == "export":
                exported_later.update(w.value for w in words[1:] if "=" not in w.value)
    if not jobs:
        return
    used: set[str] = set()
    for command, _ in jobs:
        for word in command.words:
            used |= _references(word.value, makefile)
    # A variable built from another one uses it: DATA=$ROOT/data.
    by_name = {v.name: v for v in variables}
    pending = list(used)
    while pending:
        name = pending.pop()
        variable = by_name.get(name)
        if variable is None:
            continue
        for other in _references(variable.value, makefile):
            if other not in used:
                used.add(other)
                pending.append(other)
    for variable in variables:
        if not variable.paths:
            continue
        if variable.exported or variable.name in exported_later or variable.name in used:
            _report(ctx, variable.paths, logical[variable.line][1])
    for command, starts in jobs:
        paths = [p for word in command.words for p in _machine_paths(word)]
        if paths:
            _report(ctx, paths, starts)


def _report(ctx: Context, paths: list[tuple[int, str]], starts: list[tuple[int, int]]) -> None:
    first = _place(paths[0][0], starts)
    last = _place(paths[-1][0], starts)
    others = len({path for _, path in paths}) - 1
    more = "" if not others else f" (and {others} more {'path' if others == 1 else 'paths'})"
    ctx.report_line(first, end_line=last, path=paths[0][1], more=more)
