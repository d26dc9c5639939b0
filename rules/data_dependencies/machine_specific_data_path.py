"""
What it does
------------
Flags a string literal that names a data or model location only one machine has, or a location
whose contents change under the code's feet, when it is used to read or write data:

- an absolute path inside one person's home folder (``/home/alice/...``, ``/Users/alice/...``,
  ``C:\\Users\\alice\\...``), any Windows drive path (``D:/datasets/...``) other than the
  system folders (``C:\\Windows``, ``C:\\Program Files``), or a personal Google Drive mounted in
  Colab (``/content/drive/...``);
- an absolute path to a file the repository itself holds, as copied into one container or
  machine (``/workdir/corrections.json`` for the repository's ``corrections.json``; system,
  scratch and platform folders such as ``/tmp``, ``/opt/ml`` and ``/kaggle`` aside);
- a mutable pointer, a path segment or file named ``latest`` or ``current``
  (``s3://bucket/features/latest/``), when the code reads from it.

A machine path is flagged when it is passed, directly or through ``os.path.join``,
``Path(...)``, ``/``, ``+``, ``%``, ``.format`` or an f-string, to a call that reads or writes
files (pandas ``read_*``/``to_*``, ``open``, ``np.load``/``np.save``, ``torch.load``/``torch.save``,
``joblib``, ``Path(...)``, ``glob``, ``from_pretrained``, Spark readers, ...); when it is stored
in a variable, attribute, keyword argument or dict key whose name says it is a location
(``data_dir = ...``, ``save_path=...``, ``{"model_path": ...}``, an argparse ``default`` of
``--data-root``); or when it is stored in any other variable that such a call then uses. A
``latest`` pointer is flagged only when passed to a call that reads.

Paths built from ``Path.home()`` or ``os.path.expanduser("~/...")`` are not flagged, nor are
test files, nor ``latest`` files that the same module also writes (a resume checkpoint).

Why is this bad?
----------------
A path on one person's laptop makes the pipeline run nowhere else: a colleague, the CI job or
the training cluster fails, or worse, silently reads a different copy of the data. A
``latest`` pointer is worse still: the same code reads different data from one day to the
next, so a model cannot be traced back to what it was trained on and a result cannot be
reproduced.

Example
-------
.. code-block:: python

    train = pd.read_csv("/Users/alice/Downloads/churn/train.csv")
    features = pd.read_parquet("s3://ml-data/features/latest/")

Use instead
-----------
Take the location from configuration or the command line, and pin the version that is read:

.. code-block:: python

    train = pd.read_csv(cfg.data_dir / "churn" / "train.csv")
    features = pd.read_parquet(f"s3://ml-data/features/{cfg.feature_snapshot}/")

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
- SonarQube ``S1075`` (URIs should not be hardcoded)
- DVC documentation: versioning data and models
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.data_calls import (
    OPENERS,
    PATH_JOINS,
    SAME_PATH,
    access,
    location_only,
    opened,
)
from rules.ml.locations import machine_specific
from rules.names import method_name, string_value

RULE = Rule(
    code="DEBT701",
    name="machine-specific-data-path",
    principle="data-dependencies",
    severity="warning",
    message="Replace `{path}`, {why}, with a configured and versioned location.",
    valid=(
        # Near miss: the home folder is resolved at run time, on every machine.
        """
import pandas as pd
from pathlib import Path

train = pd.read_csv(Path.home() / "data" / "train.csv")
""",
        """
import os
import numpy as np

cache = np.load(os.path.expanduser("~/.cache/embeddings.npy"))
""",
        # Near miss: a resume checkpoint the same script writes, not a data dependency.
        """
import torch

def train(model, resume):
    if resume:
        model.load_state_dict(torch.load("checkpoints/latest.pt"))
    for epoch in range(10):
        step(model)
        torch.save(model.state_dict(), "checkpoints/latest.pt")
""",
        # Near miss: documentation, not a path the code reads.
        '''
def load(path):
    """Load a table, e.g. load("/home/alice/data/train.csv")."""
    return pd.read_csv(path)
''',
        # Near miss: a machine path in a test fixture.
        Example(
            'def test_reader():\n    assert reader("/home/ci/data.csv")\n    pd.read_csv("/home/ci/data.csv")\n',
            path="tests/test_io.py",
        ),
        # Near miss: a system folder present on every Windows machine.
        """
import os

NVIDIA_SMI_PATH = r"C:\\Windows\\System32\\nvidia-smi.exe"
FONT_FILE = Path("C:/Windows/Fonts/arial.ttf")
""",
        # Near miss: what a file call writes is contents, not a location.
        """
import json

with open("notes.json", "w") as handle:
    json.dump("/home/alice/exports", handle)
    handle.write("/home/alice/exports")
""",
        # Near miss: a shared mount holding data, not a file of the repository.
        Example(
            """
from pathlib import Path

data_dir = Path("/workdir/data/")
""",
            path="src/config.py",
            files=("corrections.json", "src/config.py"),
        ),
        # Near miss: a machine-looking string that is never used as a file location.
        """
EXAMPLE_USER = "/home/alice"
print(EXAMPLE_USER)
""",
    ),
    invalid=(
        Example(
            """
import pandas as pd

train = pd.read_csv("/Users/alice/Downloads/churn/train.csv")
""",
            line=3,
        ),
        Example(
            """
import os
import joblib

DATA_DIR = "/home/bob/projects/churn/data"

def load_model():
    return joblib.load(os.path.join(DATA_DIR, "model.joblib"))
""",
            line=4,
        ),
        Example(
            """
import pandas as pd

features = pd.read_parquet("s3://ml-data/features/latest/")
""",
            line=3,
        ),
        Example(
            """
import torch

def export(model):
    torch.save(model.state_dict(), f"C:\\\\Users\\\\bob\\\\models\\\\{model.name}.pt")
""",
            line=4,
        ),
        """
from pathlib import Path

MODEL_PATH = Path("/content/drive/MyDrive/models/bert")
""",
        """
import json

with open("data/current/labels.json") as handle:
    labels = json.load(handle)
""",
        Example(
            """
model.fit(X, y, callbacks=callbacks)
model.load_weights("C:/Users/bob/quora/weights.h5")
""",
            line=2,
        ),
        # The repository's own file, reached where one container copies it.
        Example(
            """
from pathlib import Path

corrections_json_path = Path("/workdir/corrections.json")
""",
            path="src/config.py",
            files=("corrections.json", "src/config.py"),
            line=3,
        ),
    ),
)


@dataclass
class State:
    # Machine paths stored in variables whose names do not say they are locations, by name.
    variables: dict[str, list[tuple[cst.CSTNode, str]]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # names passed to a file call
    reported: set[int] = field(default_factory=set)
    reads: list[tuple[cst.CSTNode, str]] = field(default_factory=list)  # `latest` locations read
    written: set[str] = field(default_factory=set)  # locations written by the file


# A placeholder is shown in the message instead of an f-string's expressions.
_HOLE = "…"

_SEGMENT_SPLIT = re.compile(r"[\\/]")
_WORD_SPLIT = re.compile(r"[._\-]")
_REMOTE = re.compile(r"^[a-z][a-z0-9+]*://")

# Calls that only combine parts of a path, or give the same path in another form: the
# location is made of their arguments.
_JOIN_CALLS = PATH_JOINS | SAME_PATH

_MACHINE = "a path that exists on one machine only"
_MUTABLE = "a location whose contents change over time"
_CONTAINER = "an absolute path to a file this repository holds"

# System and scratch folders, and platforms that copy the code to a fixed place by design.
_SYSTEM_ROOTS = (
    "/tmp/", "/dev/", "/proc/", "/sys/", "/etc/", "/usr/", "/var/", "/bin/", "/lib/",
    "/opt/ml/", "/opt/program/", "/kaggle/",
)  # fmt: skip
_FILES: dict[int, tuple[object, frozenset[str]]] = {}


def _file_set(ctx: Context[State]) -> frozenset[str]:
    files = ctx.files
    cached = _FILES.get(id(files))
    if cached is not None and cached[0] is files:
        return cached[1]
    found = frozenset(files)
    _FILES.clear()
    _FILES[id(files)] = (files, found)
    return found


def _repository_file(text: str, ctx: Context[State]) -> bool:
    """Whether ``text`` is an absolute path to a file of the repository as copied somewhere
    else (``/workdir/corrections.json`` for the repository's ``corrections.json``): the code
    then finds its own file only in that one container or machine."""
    if not text.startswith("/") or text.startswith(_SYSTEM_ROOTS) or _HOLE in text:
        return False
    segments = [segment for segment in text.split("/") if segment]
    if len(segments) < 2 or "." not in segments[-1]:
        return False
    files = _file_set(ctx)
    return any("/".join(segments[drop:]) in files for drop in (1, 2) if drop < len(segments))


def _why(text: str, ctx: Context[State]) -> str:
    return _MACHINE if machine_specific(text) else _CONTAINER


# Names of variables, keywords and keys that hold a file location.
_PATH_NAME = re.compile(
    r"path|dir|folder|root|file|data|model|ckpt|checkpoint|weight|output|save|cache|prefix",
    re.IGNORECASE,
)


def _text(node: cst.CSTNode) -> str | None:
    """The text of a string literal; an f-string's expressions become ``…``."""
    value = string_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.FormattedString):
        parts = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            else:
                parts.append(_HOLE)
        return "".join(parts)
    if isinstance(node, cst.ConcatenatedString):
        left, right = _text(node.left), _text(node.right)
        return None if left is None or right is None else left + right
    return None


def mutable_pointer(text: str) -> bool:
    """Whether ``text`` names a ``latest``/``current`` location, whose contents move."""
    if not any(c in text for c in "/\\.") and not _REMOTE.match(text):
        return False  # a bare word ("latest") is a tag or a version name, not a location
    for segment in _SEGMENT_SPLIT.split(text):
        if not segment or _HOLE in segment:
            continue
        stem = segment.rsplit(".", 1)[0].lower() if "." in segment else segment.lower()
        words = _WORD_SPLIT.split(segment.lower())
        if "latest" in words or stem == "current":
            return True
    return False


def _strings(
    node: cst.CSTNode, ctx: Context[State], seen: list[cst.CSTNode], depth: int = 0
) -> None:
    """Collect the string literals (and names) a path expression is built from."""
    if depth > 6:
        return
    if _text(node) is not None:
        seen.append(node)
        if isinstance(node, cst.FormattedString):
            for part in node.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    _strings(part.expression, ctx, seen, depth + 1)
        return
    if isinstance(node, cst.Name):
        seen.append(node)
    elif isinstance(node, cst.BinaryOperation) and isinstance(
        node.operator, cst.Add | cst.Divide | cst.Modulo
    ):
        _strings(node.left, ctx, seen, depth + 1)
        if not isinstance(node.operator, cst.Modulo):
            _strings(node.right, ctx, seen, depth + 1)
    elif isinstance(node, cst.Call):
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "format":
            _strings(func.value, ctx, seen, depth + 1)
        elif ctx.call_name(node) in _JOIN_CALLS:
            for arg in node.args:
                _strings(arg.value, ctx, seen, depth + 1)


def _machine_strings(node: cst.CSTNode, ctx: Context[State]) -> list[tuple[cst.CSTNode, str]]:
    found: list[cst.CSTNode] = []
    _strings(node, ctx, found)
    pairs = []
    for part in found:
        text = _text(part)
        if text is not None and (machine_specific(text) or _repository_file(text, ctx)):
            pairs.append((part, text))
    return pairs


def _path_like(name: str) -> bool:
    return bool(_PATH_NAME.search(name))


def _kind(call: cst.Call, ctx: Context[State]) -> tuple[str, tuple[cst.CSTNode, ...]] | None:
    """ "read", "write" or "location" for a call that takes a file location, else None; with
    the arguments that hold no location (what a write writes)."""
    file = opened(call, ctx) if ctx.call_name(call) in OPENERS else None
    if file is not None:
        return ("write" if file.writes else "read"), ()
    found = access(call, ctx)
    # Text written to an open file (`f.write(...)`) and rows sent with a SQL statement are
    # contents, not locations.
    if (
        found is not None
        and found.where != "handle"
        and (found.where, found.kind) != ("query", "write")
    ):
        # Any other argument of a file call may hold a location (`data_files=` of
        # `load_dataset`, `model_file=` of a Booster).
        return found.kind, found.data
    if location_only(call, ctx):
        return "location", ()
    return None


def _report(node: cst.CSTNode, text: str, why: str, ctx: Context[State]) -> None:
    if id(node) in ctx.state.reported:
        return
    ctx.state.reported.add(id(node))
    ctx.report(node, path=text, why=why)


def _assigned(
    target: cst.BaseExpression, value: cst.BaseExpression | None, ctx: Context[State]
) -> None:
    """A machine path stored in a variable: reported now if the name says it is a location,
    else remembered until the variable is used by a call that reads or writes files."""
    if ctx.is_test or value is None:
        return
    if isinstance(target, cst.Attribute):
        name = target.attr.value
    elif isinstance(target, cst.Name):
        name = target.value
    else:
        return
    strings = _machine_strings(value, ctx)
    if not strings:
        return
    if _path_like(name):
        for part, text in strings:
            _report(part, text, _why(text, ctx), ctx)
    elif isinstance(target, cst.Name):
        ctx.state.variables.setdefault(name, []).extend(strings)


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    if len(node.targets) == 1:
        _assigned(node.targets[0].target, node.value, ctx)


def visit_AnnAssign(node: cst.AnnAssign, ctx: Context[State]) -> None:
    _assigned(node.target, node.value, ctx)


def visit_DictElement(node: cst.DictElement, ctx: Context[State]) -> None:
    key = string_value(node.key)
    if key is not None and _path_like(key) and not ctx.is_test:
        for part, text in _machine_strings(node.value, ctx):
            _report(part, text, _why(text, ctx), ctx)


def _option_name(call: cst.Call) -> str:
    """The longest option string of an ``add_argument`` call, e.g. ``--data_root``."""
    names = [string_value(arg.value) or "" for arg in call.args if arg.keyword is None]
    return max(names, key=len, default="")


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    if not node.args or ctx.is_test:
        return
    state = ctx.state
    found = _kind(node, ctx)
    if found is None:
        # Not a file call: only a location keyword (save_path=..., data_dir=...) counts, or
        # an argparse default for a location option.
        add_argument = method_name(node) == "add_argument"
        for arg in node.args:
            if arg.keyword is None:
                continue
            keyword = arg.keyword.value
            if _path_like(keyword) or (
                add_argument and keyword == "default" and _path_like(_option_name(node))
            ):
                for part, text in _machine_strings(arg.value, ctx):
                    _report(part, text, _why(text, ctx), ctx)
        return
    kind, written = found
    strings: list[cst.CSTNode] = []
    for arg in node.args:
        if not any(arg.value is data for data in written):
            _strings(arg.value, ctx, strings)
    for part in strings:
        if isinstance(part, cst.Name):
            state.used.add(part.value)
            continue
        text = _text(part)
        if text is None:
            continue
        if machine_specific(text) or _repository_file(text, ctx):
            _report(part, text, _why(text, ctx), ctx)
        elif kind == "write":
            state.written.add(text)
        elif kind == "read" and mutable_pointer(text):
            state.reads.append((part, text))


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    for name, strings in state.variables.items():
        if name in state.used:
            for part, text in strings:
                _report(part, text, _why(text, ctx), ctx)
    for part, text in state.reads:
        if text not in state.written:
            _report(part, text, _MUTABLE, ctx)
