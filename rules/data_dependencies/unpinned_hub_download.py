"""
What it does
------------
Flags a model, dataset or weights file downloaded from a hub with nothing that fixes which
version arrives:

- ``from_pretrained("org/name")`` of transformers, diffusers, PEFT, sentence-transformers, TRL,
  Optimum or SetFit, ``SentenceTransformer("org/name")``, ``CrossEncoder("org/name")`` and
  ``transformers.pipeline(model="org/name")`` without ``revision=``;
- ``datasets.load_dataset("org/name")`` without ``revision=`` (the packaged loaders, ``csv``,
  ``json``, ``parquet``, ``imagefolder``..., read local files and are left alone);
- ``huggingface_hub.hf_hub_download`` and ``snapshot_download`` without ``revision=``;
- ``torch.hub.load("owner/repo", ...)`` without a tag or commit after the repository
  (``"owner/repo:v1.0"``; a branch such as ``:main`` moves too).

Files fetched from a plain URL without a checked digest (``load_state_dict_from_url`` without
``check_hash=True``, ``download_url_to_file`` without ``hash_prefix``) are DEBT709's.

A branch name (``revision="main"``) does not pin anything. Only literal names are judged, and
module constants holding one (``MODEL_ID = "org/name"``): a name passed in a variable may come
from a configuration that pins it. A local folder (``./checkpoints/best``, a folder of the
repository, one the same file saves to) is not a download.

Only code that trains, evaluates, serves or prepares is judged: a file that computes gradients,
steps an optimizer, calls ``fit``, ``train`` or a ``Trainer``, or runs a web service (FastAPI,
Flask, BentoML, Ray Serve, ...); an evaluation script (``eval.py``, ``evaluate_*.py``,
``benchmark.py``), whose scores compare runs only while the benchmark stays the same; a script that writes what it built from the download (a dataset
prepared with ``save_to_disk`` or ``to_parquet``, a file opened for writing, a tokenizer or model
saved with ``save_pretrained``), since a later step trains on that output; and any module of a
folder that holds a training or serving entry point (``train.py``, ``finetune.py``,
``serve.py``...) or sits below one. Tests, documentation,
examples, tutorials, notebooks and their exports, demos, ``hubconf.py`` and ``setup.py`` are left
alone: there the newest version is what the reader wants.

Why is this bad?
----------------
A hub repository is a moving target: its owner can push new weights, a new tokenizer or a fixed
dataset split at any time, and the name stays the same. A training run started next month, or a
serving replica that starts after a restart, then silently works with different files than the
run that was evaluated, and neither the code nor the configuration shows the change. Results
stop being reproducible, and a model that served well yesterday can change behaviour today.

Example
-------
.. code-block:: python

    tokenizer = AutoTokenizer.from_pretrained("allenai/scibert_scivocab_uncased")
    dataset = load_dataset("imdb")
    backbone = torch.hub.load("facebookresearch/xcit:main", "xcit_small_12_p16")

Use instead
-----------
Name the exact version: a commit of the hub repository or a release tag:

.. code-block:: python

    tokenizer = AutoTokenizer.from_pretrained(
        "allenai/scibert_scivocab_uncased", revision="24f92d32b1bfb0bcaf9ab193ff3ad01e87732fc1"
    )
    dataset = load_dataset("imdb", revision="e6281661ce1c48d982bc483cf8a173c1bbeb5d31")
    backbone = torch.hub.load("facebookresearch/dino:7c446df", "dino_vits16")

References
----------
- Hugging Face Hub documentation: downloading files, the ``revision`` parameter
- PyTorch documentation: ``torch.hub.load`` (``repo_owner/repo_name[:ref]``)
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": unstable data dependencies
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field

import libcst as cst

from rules import Context, Example, Rule
from rules.ml.data_calls import access, opened
from rules.ml.torch import is_backward, optimizer_stepped
from rules.names import keyword, string_value

RULE = Rule(
    code="DEBT705",
    name="unpinned-hub-download",
    principle="data-dependencies",
    severity="warning",
    # Held-out set 2's four misses were downloads the base already had, on lines a change only
    # edited; the engine now leaves those alone, and what remains there and on the tuning data
    # is right (6 of 6 replayed, 3 of 3 more at HEAD). On again; held-out set 3 measures it.
    message="Pin the {what} `{name}` to one version with `{pin}` so that every run gets the same files.",
    valid=(
        # Near miss: the revision is a commit of the hub repository.
        """
from transformers import AutoModel

def train(loader, optimizer):
    model = AutoModel.from_pretrained("allenai/scibert_scivocab_uncased", revision="24f92d3")
    for batch in loader:
        model(**batch).loss.backward()
        optimizer.step()
""",
        # Near miss: the name comes from the configuration, which may pin it.
        """
from transformers import AutoModel

def train(cfg, optimizer):
    model = AutoModel.from_pretrained(cfg.model_name)
    model(**batch).loss.backward()
""",
        # Near miss: a local folder and a packaged loader of local files.
        """
from datasets import load_dataset
from transformers import AutoModel

model = AutoModel.from_pretrained("./checkpoints/best")
data = load_dataset("csv", data_files="data/train.csv")
trainer.train()
""",
        # Near miss: a tag after the repository; a URL download is DEBT709's.
        """
import torch

backbone = torch.hub.load("facebookresearch/dino:v0.1", "dino_vits16")
state = torch.hub.load_state_dict_from_url("https://example.org/w.pth")
model.fit(x, y)
""",
        # Near miss: an example script, where the newest version is what the reader wants.
        Example(
            """
from transformers import AutoModel

model = AutoModel.from_pretrained("bert-base-uncased")
model.train()
""",
            path="examples/finetune.py",
        ),
        # Near miss: a preparation script whose hub name comes from the command line.
        """
from datasets import load_dataset

def main(name, out):
    load_dataset(name, split="train").to_parquet(out)
""",
        # Near miss: code that neither trains nor serves.
        """
from transformers import AutoTokenizer

def count_tokens(text):
    return len(AutoTokenizer.from_pretrained("bert-base-uncased")(text)["input_ids"])
""",
    ),
    invalid=(
        Example(
            """
from transformers import BertModel

def train(loader, optimizer):
    llm = BertModel.from_pretrained("allenai/scibert_scivocab_uncased", return_dict=False)
    for batch in loader:
        llm(**batch).loss.backward()
        optimizer.step()
""",
            line=4,
        ),
        Example(
            """
import datasets

MODEL_ID = "distilbert-base-uncased"
dataset = datasets.load_dataset("imdb")
trainer.train()
""",
            line=4,
        ),
        Example(
            """
import torch

student = torch.hub.load("facebookresearch/xcit:main", "xcit_small_12_p16")
loss.backward()
""",
            line=3,
        ),
        Example(
            """
from fastapi import FastAPI
from sentence_transformers import SentenceTransformer

app = FastAPI()
encoder = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")
""",
            line=5,
        ),
        Example(
            """
from huggingface_hub import hf_hub_download

def load_weights():
    return hf_hub_download("org/classifier", "model.safetensors")
""",
            path="project/models.py",
            files=("project/__init__.py", "project/train.py", "project/models.py"),
            line=4,
        ),
        # A data-preparation script: what it writes is what training reads.
        Example(
            """
from datasets import load_dataset

DATASET = "org/news"

def main(save_path="data"):
    dataset = load_dataset(DATASET, split="validation")
    with open(save_path + "/hi.txt", "w") as f:
        f.writelines(row["text"] for row in dataset)
""",
            path="recipes/multilingual/prepare_data.py",
            line=6,
        ),
    ),
)


@dataclass
class State:
    # Downloads seen, with the ancestors to report them from: (call, name node, kind, ancestors).
    downloads: list[tuple[cst.Call, cst.BaseExpression, str, list[cst.CSTNode]]] = field(
        default_factory=list
    )
    trains: bool = False  # the file computes gradients, steps an optimizer, fits or trains
    constants: dict[str, cst.BaseExpression] = field(default_factory=dict)  # module constants
    reassigned: set[str] = field(default_factory=set)
    saved: set[str] = field(default_factory=set)  # literal locations the file saves to
    writes: bool = False  # the file writes data, a model or a tokenizer it built


# Libraries whose ``from_pretrained`` downloads from the Hugging Face Hub.
_HUB_LIBRARIES = frozenset(
    {"transformers", "diffusers", "peft", "sentence_transformers", "trl", "optimum", "setfit"}
)
_HUB_CLASSES = frozenset(
    {"sentence_transformers.SentenceTransformer", "sentence_transformers.CrossEncoder"}
)
_HF_DOWNLOADS = frozenset({"huggingface_hub.hf_hub_download", "huggingface_hub.snapshot_download"})
# ``load_dataset`` loaders that read local files rather than a hub repository.
_PACKAGED_LOADERS = frozenset(
    {
        "csv", "json", "parquet", "text", "arrow", "pandas", "imagefolder", "audiofolder",
        "videofolder", "webdataset", "sql", "generator", "xml", "spark", "cache", "pdffolder",
    }
)  # fmt: skip
# Last names of the calls the rule looks at: every call of every file passes here first.
_INTERESTING = frozenset(
    {
        "from_pretrained", "load_dataset", "hf_hub_download", "snapshot_download", "load",
        "SentenceTransformer",
        "CrossEncoder", "pipeline",
    }
)  # fmt: skip
_TRAINING_METHODS = frozenset({"fit", "fit_generator", "train", "train_model", "zero_grad"})
_TRAINER = re.compile(r"Trainer$")
_SAVES = frozenset({"save_pretrained", "save_model", "save_to_disk", "save"})
# Methods that write what a preparation script built (``save`` alone is too common a name).
_ARTIFACT_SAVES = frozenset({"save_pretrained", "save_to_disk", "push_to_hub", "save_model"})
# Web frameworks and model servers: a module that imports one serves.
_SERVING = frozenset(
    {
        "fastapi", "flask", "bentoml", "litserve", "kserve", "starlette", "sanic", "ray.serve",
        "ts.torch_handler", "sagemaker_inference", "triton_python_backend_utils",
    }
)  # fmt: skip
_SERVING_PREFIXES = tuple(f"{name}." for name in _SERVING)
_BRANCHES = frozenset({"main", "master", "head", "latest", "dev", "develop"})

# Where a hub name is not a download at all.
_EXCLUDED_DIRS = frozenset(
    {
        "docs", "doc", "examples", "example", "tutorials", "tutorial", "notebooks", "notebook",
        "demo", "demos", "samples", "sample",
    }
)  # fmt: skip
_EXCLUDED_FILES = frozenset({"hubconf.py", "setup.py", "conftest.py", "noxfile.py"})
_NOTEBOOK_EXPORT = re.compile(r"^# In\[[0-9 ]*\]:|get_ipython\(\)", re.MULTILINE)
# Modules that start training or serving: the folder holding one is a training package.
_ENTRY_POINT = re.compile(
    r"^(train|training|finetune|fine_tune|pretrain|serve|serving|server)([_-][\w-]*)?\.py$"
)

# Scripts that evaluate: their scores mean something only against one version of the data.
_EVALUATION = re.compile(r"^(eval|evaluate|evaluation|benchmark)([_-][\w-]*)?\.py$")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
# Extensions of files: a name ending in one is a file, not a hub repository.
_FILE_SUFFIX = re.compile(
    r"\.(bin|pt|pth|ckpt|safetensors|json|h5|hdf5|onnx|pkl|pickle|joblib|model|yaml|yml|txt|py|"
    r"zip|tar|gz|npz|npy|msgpack|gguf)$",
    re.IGNORECASE,
)
# First folders of relative paths that hold a project's own models and outputs.
_LOCAL_FOLDERS = frozenset(
    {
        "models", "model", "checkpoints", "checkpoint", "ckpt", "ckpts", "output", "outputs",
        "out", "saved", "saved_models", "saved_model", "runs", "results", "weights",
        "pretrained", "pretrained_models", "artifacts", "artefacts", "cache", "tmp", "data",
        "exp", "experiments", "logs", "save", "trained_models", "best_model", "final_model",
        "input", "kaggle", "content", "mnt", "workspace",
    }
)  # fmt: skip


def _last_name(node: cst.Call) -> str | None:
    func = node.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def _positional(call: cst.Call, index: int) -> cst.BaseExpression | None:
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[index].value if index < len(positional) else None


def _argument(call: cst.Call, index: int | None, name: str) -> cst.BaseExpression | None:
    found = keyword(call, name)
    if found is not None:
        return found.value
    return _positional(call, index) if index is not None else None


def _download(node: cst.Call, name: str, ctx: Context[State]) -> tuple[str, int | None, str] | None:
    """(kind, position, keyword) of the argument naming what a call downloads, else None."""
    qualified = ctx.call_name(node) or ""
    if name == "from_pretrained":
        if qualified.split(".", 1)[0] in _HUB_LIBRARIES:
            return "model", 0, "pretrained_model_name_or_path"
        return None
    if qualified in _HUB_CLASSES:
        return "model", 0, "model_name_or_path"
    if qualified == "transformers.pipeline":
        return "model", 1, "model"
    if qualified == "datasets.load_dataset":
        return "dataset", 0, "path"
    if qualified in _HF_DOWNLOADS:
        return "hub repository", 0, "repo_id"
    if qualified == "torch.hub.load":
        return "code and weights", 0, "repo_or_dir"
    return None


def visit_Call(node: cst.Call, ctx: Context[State]) -> None:
    name = _last_name(node)
    if name is None:
        return
    state = ctx.state
    if name in _INTERESTING:
        found = _download(node, name, ctx)
        if found is not None:
            kind, position, keyword_name = found
            target = _argument(node, position, keyword_name)
            if target is not None:
                state.downloads.append((node, target, kind, list(ctx.ancestors)))
        return
    if not state.trains and (
        (name in _TRAINING_METHODS and isinstance(node.func, cst.Attribute))
        or _TRAINER.search(name)
        or (name == "step" and optimizer_stepped(node) is not None)
        or is_backward(node)
    ):
        state.trains = True
    if not state.writes and _writes(node, name, ctx):
        state.writes = True
    if name in _SAVES and isinstance(node.func, cst.Attribute):
        location = _positional(node, 0)
        text = string_value(location) if location is not None else None
        if text:
            state.saved.add(posixpath.normpath(text))


def _writes(node: cst.Call, name: str, ctx: Context[State]) -> bool:
    """Whether a call writes an artifact: data, a model, a tokenizer, a file opened to write."""
    if name in _ARTIFACT_SAVES and isinstance(node.func, cst.Attribute):
        return True
    if name == "open" or ctx.call_name(node) in ("open", "io.open"):
        file = opened(node, ctx)
        return file is not None and file.writes
    found = access(node, ctx)
    return found is not None and found.kind == "write" and found.where in ("path", "table")


def visit_Assign(node: cst.Assign, ctx: Context[State]) -> None:
    state = ctx.state
    at_module_level = len(ctx.ancestors) <= 2
    for target in node.targets:
        if not isinstance(target.target, cst.Name):
            continue
        name = target.target.value
        if at_module_level and name not in state.constants and name not in state.reassigned:
            state.constants[name] = node.value
        else:
            state.reassigned.add(name)


def _excluded(ctx: Context[State]) -> bool:
    if ctx.is_test:
        return True
    parts = ctx.path.lower().split("/")
    if parts[-1] in _EXCLUDED_FILES or any(part in _EXCLUDED_DIRS for part in parts[:-1]):
        return True
    return bool(_NOTEBOOK_EXPORT.search(ctx.text))


def _serves(ctx: Context[State]) -> bool:
    return any(
        imported in _SERVING
        or imported.split(".", 1)[0] in _SERVING
        or imported.startswith(_SERVING_PREFIXES)
        for imported in ctx.aliases.values()
    )


_ENTRY_FOLDERS: dict[int, tuple[Collection[str], frozenset[str]]] = {}


def _entry_folders(files: Collection[str]) -> frozenset[str]:
    """The packages of a repository holding a training or serving entry point, and its root
    when the root holds one."""
    cached = _ENTRY_FOLDERS.get(id(files))
    if cached is not None and cached[0] is files:
        return cached[1]
    folders = set()
    for path in files:
        if _ENTRY_POINT.match(posixpath.basename(path)) and not _is_excluded_path(path):
            folder = posixpath.dirname(path)
            # A folder of loose scripts (``scripts/``) is no package: one script training says
            # nothing of the others. The repository's root holds what its entry points import.
            if not folder or posixpath.join(folder, "__init__.py") in files:
                folders.add(folder)
    _ENTRY_FOLDERS.clear()
    _ENTRY_FOLDERS[id(files)] = (files, frozenset(folders))
    return frozenset(folders)


def _is_excluded_path(path: str) -> bool:
    parts = path.lower().split("/")
    return any(part in _EXCLUDED_DIRS or part in ("tests", "test") for part in parts[:-1])


def _in_training_package(ctx: Context[State]) -> bool:
    folders = _entry_folders(ctx.files)
    folder = posixpath.dirname(ctx.path)
    while True:
        if folder in folders:
            return True
        if not folder:
            return False
        folder = posixpath.dirname(folder)


def _local(text: str, ctx: Context[State]) -> bool:
    """Whether a name passed to a hub call is a local file or folder rather than a hub name."""
    if not _HUB_ID.match(text) or _FILE_SUFFIX.search(text):
        return True
    normal = posixpath.normpath(text)
    if normal in ctx.state.saved:
        return True
    first = text.split("/", 1)[0]
    if first.lower() in _LOCAL_FOLDERS:
        return True
    prefix = first + "/"
    folder = posixpath.dirname(ctx.path)
    beside = posixpath.join(folder, first) + "/" if folder else prefix
    return any(path.startswith((prefix, beside)) for path in ctx.files)


def _literal(node: cst.BaseExpression, ctx: Context[State]) -> str | None:
    text = string_value(node)
    if text is None and isinstance(node, cst.Name):
        state = ctx.state
        if node.value in state.constants and node.value not in state.reassigned:
            text = string_value(state.constants[node.value])
    return text


def _pinned_revision(call: cst.Call, ctx: Context[State]) -> bool:
    if any(arg.star == "**" for arg in call.args):
        return True  # the keywords passed on may hold a revision
    local = keyword(call, "local_files_only")
    if local is not None and not (
        isinstance(local.value, cst.Name) and local.value.value == "False"
    ):
        return True
    revision = keyword(call, "revision")
    if revision is None:
        return False
    text = _literal(revision.value, ctx)
    if text is not None:
        return text.lower() not in _BRANCHES
    return not (isinstance(revision.value, cst.Name) and revision.value.value == "None")


def _judge(call: cst.Call, target: cst.BaseExpression, kind: str, ctx: Context[State]):
    """(name, pin) for an unpinned download, else None."""
    text = _literal(target, ctx)
    if text is None:
        return None
    qualified = ctx.call_name(call) or ""
    if qualified == "torch.hub.load":
        source = keyword(call, "source")
        if source is not None and string_value(source.value) == "local":
            return None
        repository, _, ref = text.partition(":")
        if repository.count("/") != 1 or repository.startswith((".", "/", "~")):
            return None
        if ref and ref.lower() not in _BRANCHES:
            return None
        return text, f'"{repository}:<tag or commit>"'
    if _pinned_revision(call, ctx) or _local(text, ctx):
        return None
    if kind == "dataset":
        if text.lower() in _PACKAGED_LOADERS:
            return None
    elif "/" not in text and not re.search(r"[-\d]", text):
        # A bare word ("model", "encoder") is more likely a folder the project writes than one
        # of the hub's canonical names ("gpt2", "bert-base-uncased").
        return None
    return text, 'revision="<commit sha>"'


def leave_Module(node: cst.Module, ctx: Context[State]) -> None:
    state = ctx.state
    if not state.downloads or _excluded(ctx):
        return
    evaluates = bool(_EVALUATION.match(posixpath.basename(ctx.path)))
    if not (state.trains or state.writes or evaluates or _serves(ctx) or _in_training_package(ctx)):
        return
    for call, target, kind, ancestors in state.downloads:
        judged = _judge(call, target, kind, ctx)
        if judged is not None:
            name, pin = judged
            ctx.report_from(call, ancestors, what=kind, name=name, pin=pin)
