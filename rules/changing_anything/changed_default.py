"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT507"]``).
Judges a pull request against its base: it flags a change that edits the default value of a
training or evaluation parameter that already existed, in one of four places:

- an ``add_argument(..., default=X)`` of a command-line parser;
- a field of a dataclass, attrs class or pydantic model (``lr: float = 1e-3``,
  ``field(default=...)``, ``attr.ib(default=...)``, ``Field(...)``);
- a keyword default of a function or method (``def forward(self, x, jaccard_weight=1)``);
- a module-level constant written in capitals (``BATCH_SIZE = 32``).

The parameter must have had a literal default at the base and still have one, under the same
name in the same function or class, or in the one function or class that took over the
parameter when its owner was renamed (an added or renamed parameter is not a changed default;
nor is a value written otherwise, ``1`` as ``1.0``, a name respelled, ``unet11`` as ``UNet11``,
or an empty ``{}`` default replaced by ``None``).
Only tuned parameters count, in a file that imports a machine-learning library: a parameter
named as a hyperparameter (learning rate, batch size, epochs, dropout, weight decay, rank,
bits, loss weights...), or any number or flag of a model, loss, optimiser, scheduler, dataset
or loader (a class or function named so, or a ``torch.nn.Module``), or of the command line of
a training or evaluation script. Left alone: logging, saving, device and worker settings,
paths, test files, modules of a configuration folder (``configs/``, ``experiments/``), which
are the record of runs themselves, and scripts that copy their own source into each run's
folder (``open(__file__)``, ``shutil.copy(__file__, ...)``), whose runs record their defaults. All changed defaults of one file make one finding, on
the first of them, naming each with its old and new value.

Why is this bad?
----------------
A default is a setting every run that does not pass the parameter relies on. Changing it
changes what those runs train or evaluate, and nothing says so: the next run's metric moves,
and comparing it with last week's run compares two different configurations without anyone
knowing. Launch scripts, notebooks and other callers that leaned on the old value change
behaviour in the same silent way.

Example
-------
.. code-block:: python

    # loss.py, at the base the default was jaccard_weight=1
    class LossBinary:
        def __init__(self, jaccard_weight=0):
            self.nll_loss = nn.BCEWithLogitsLoss()
            self.jaccard_weight = jaccard_weight

Use instead
-----------
Keep the default and pass the new value where it is wanted, or, when the new value should
become the default, record the change where runs are compared (the experiment's configuration,
a changelog, the tracked run's commit message) so that results before and after are not
compared as if alike:

.. code-block:: python

    criterion = LossBinary(jaccard_weight=0)  # run 2024-05-12: Jaccard term off

References
----------
- Sculley et al. (2015), "Hidden Technical Debt in Machine Learning Systems": changing
  anything changes everything, and configuration debt.
- Bouthillier et al. (2019), "Unreproducible Research is Reproducible": unrecorded
  hyperparameter changes as a source of irreproducible comparisons.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace

from rules import Change, Example, RepositoryContext, Rule

_LOSS_BASE = """\
import torch
from torch import nn


class LossBinary:
    def __init__(self, jaccard_weight=1):
        self.nll_loss = nn.BCEWithLogitsLoss()
        self.jaccard_weight = jaccard_weight
"""
_ARGS_BASE = """\
import argparse

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="data/train.csv")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-workers", type=int, default=4)
    args = parser.parse_args()
"""
_FIELDS_BASE = """\
from dataclasses import dataclass, field

import transformers


@dataclass
class ModelArguments:
    bits: int = field(default=16, metadata={"help": "How many bits to use."})
    lora_r: int = field(default=128)
    output_dir: str = "./output"
"""

RULE = Rule(
    code="DEBT507",
    name="changed-default",
    principle="changing-anything",
    severity="info",
    # Off by default (measured 2026-12-04). Held-out set 2's 162 commits: 7 findings, 6 right
    # (alpaca-lora finetune.py x3, and the three the blind reviewer asked for: qlora, argus,
    # robot-surgery) and 1 debatable (alpaca-lora, a commit titled "256 -> 512 -> 256"); set 2
    # was also used to tune the exclusions. Tuning repositories (latest 300 commits of nanoGPT,
    # minGPT, kaggle_otto, kaggle-heart, yolov5): 9 findings, none right, 5 debatable, 4 wrong:
    # authors tuning on purpose and saying so in the commit title ("Update default `--epochs
    # 100`"), which the rule cannot read, or exploratory wrappers called with explicit values.
    default_enabled=False,
    disabled_because="6 of 16 findings judged right (set 2 and tuning repositories): deliberate tuning",
    message="Record the changed default{plural} `{changes}` where runs are compared (experiment config, changelog, the tracked run's commit), or pass the value explicitly where it is used.",
    valid=(
        # Near miss: a new parameter with its default, not a changed one.
        Example(_LOSS_BASE.replace("=1):", "=1, smooth=1e-6):"), path="loss.py", base=_LOSS_BASE),
        # Near miss: a renamed parameter.
        Example(
            _LOSS_BASE.replace("jaccard_weight=1", "jac_weight=1"),
            path="loss.py",
            base=_LOSS_BASE,
        ),
        # Near miss: settings that change no result (workers, paths).
        Example(
            _ARGS_BASE.replace("default=4", "default=8").replace("train.csv", "train_v2.csv"),
            path="train.py",
            base=_ARGS_BASE,
        ),
        # Near miss: a new file.
        Example(_LOSS_BASE.replace("=1)", "=0)"), path="loss.py"),
        # Near miss: a module of a folder of experiment configurations is the record itself.
        Example(
            "import torch\n\nLR = 3e-4\n",
            path="configs/resnet50.py",
            base="import torch\n\nLR = 1e-3\n",
        ),
        # Near miss: no machine-learning library imported.
        Example("RETRIES = 5\n", path="client.py", base="RETRIES = 3\n"),
    ),
    invalid=(
        Example(
            _LOSS_BASE.replace("=1)", "=0)"), path="loss.py", base=_LOSS_BASE, added=(6,), line=6
        ),
        Example(
            _ARGS_BASE.replace("default=32", "default=8").replace("1e-3", "3e-4"),
            path="train.py",
            base=_ARGS_BASE,
            added=(9, 10),
            line=9,
        ),
        Example(
            _FIELDS_BASE.replace("default=16", "default=4").replace("128", "64"),
            path="qlora.py",
            base=_FIELDS_BASE,
            added=(8, 9),
            line=8,
        ),
        Example(
            "import torch\n\nBATCH_SIZE = 8\n",
            path="predict.py",
            base="import torch\n\nBATCH_SIZE = 32\n",
            added=(3,),
        ),
    ),
)

# Libraries that make a file training or evaluation code.
_ML_LIBRARIES = frozenset(
    {
        "torch",
        "torchvision",
        "tensorflow",
        "keras",
        "jax",
        "flax",
        "optax",
        "sklearn",
        "transformers",
        "peft",
        "trl",
        "accelerate",
        "bitsandbytes",
        "lightgbm",
        "xgboost",
        "catboost",
        "timm",
        "pytorch_lightning",
        "lightning",
        "mmcv",
        "mmdet",
        "detectron2",
        "segmentation_models_pytorch",
        "albumentations",
        "fastai",
        "deepspeed",
        "diffusers",
        "sentence_transformers",
        "torchaudio",
        "torchtext",
    }
)
# Words of a parameter's name that make it a hyperparameter: it changes what is learnt or
# how it is evaluated.
_TUNED = re.compile(
    r"(?:^|_)(?:lr|learning_rate|learningrate|batch|batchsize|bs|epochs?|n_epochs|steps|iters?"
    r"|iterations|warmup|dropout|drop|weight_decay|wd|decay|momentum|beta\d?|eps|epsilon|gamma"
    r"|alpha|lambda|lam|temperature|temp|margin|smoothing|label_smoothing|clip|grad|accum"
    r"|accumulation|weight|weights|ratio|rate|threshold|thresh|topk|top_k|top_p|k|r|rank"
    r"|lora|bits|quant|bf16|fp16|precision|hidden|dim|dims|size|layers?|heads?|depth|width"
    r"|channels|features|units|embed|embedding|kernel|stride|patience|folds?|seed|max_len"
    r"|length|len|seq|tokens|optimi[sz]er|optim|scheduler|sched|loss|model|arch|backbone"
    r"|encoder|augment|aug|scale|scales|mixup|cutmix|samples|negatives|tta|ema|frac|split"
    r"|val|valid|test|num_classes|classes|img|image|resolution|crop)(?:$|_|\d)",
    re.IGNORECASE,
)
# Words of settings that change how a run is operated, not what it learns.
_OPERATIONAL = re.compile(
    r"(?:^|_)(?:workers?|num_workers|n_jobs|jobs|procs?|num_proc|threads|log|logs|logging|print"
    r"|verbose|verbosity|save|saves|ckpt|checkpoint|dir|path|file|filename|root|url|host|port"
    r"|device|devices|gpu|gpus|cuda|rank_local|local_rank|world|debug|profile|cache|timeout"
    r"|retries|every|freq|frequency|interval|project|entity|wandb|tensorboard|name|tag|tags"
    r"|prefix|suffix|output|out|resume|pin|prefetch|report|display|plot|vis|visual|progress"
    r")(?:$|_)",
    re.IGNORECASE,
)
# Names of the code a parameter must belong to, when its own name says nothing.
_TUNED_OWNER = re.compile(
    r"loss|criterion|model|net|network|module|layer|block|encoder|decoder|head|optimi[sz]|"
    r"scheduler|dataset|loader|sampler|train|fit|finetune|fine_tune|evaluat|predict|infer",
    re.IGNORECASE,
)
# Scripts that train or evaluate: their command line is the run's configuration.
_ENTRY_POINT = re.compile(
    r"(?:^|[_-])(?:train|training|finetune|fine_tune|pretrain|eval|evaluate|evaluation|test|"
    r"predict|prediction|inference|infer|main|run|fit|submit|submission)(?:$|[_-])",
    re.IGNORECASE,
)
_CONFIG_FOLDERS = re.compile(
    r"(?:^|/)(?:configs?|configurations?|experiments?|exps?|hparams|hyperparams|settings|runs"
    r"|tests?|vendor(?:ed)?|third[_-]party|site-packages)/"
)
# A script that copies its own source into each run's folder: every run records its defaults.
_RECORDS_ITSELF = re.compile(
    r"(?:open|copy\w*)\(\s*(?:os\.path\.(?:abspath|realpath)\()?\s*__file__"
    r"|Path\(__file__\)\.read_text\("
)
_CONSTANT = re.compile(r"^_?[A-Z][A-Z0-9_]*$")
_DATACLASS_DECORATORS = frozenset(
    {
        "dataclasses.dataclass",
        "attr.s",
        "attr.attrs",
        "attr.define",
        "attr.frozen",
        "attr.mutable",
        "attrs.define",
        "attrs.frozen",
        "attrs.mutable",
        "pydantic.dataclasses.dataclass",
        "flax.struct.dataclass",
        "chex.dataclass",
    }
)
_MODEL_BASES = frozenset(
    {"pydantic.BaseModel", "pydantic_settings.BaseSettings", "pydantic.BaseSettings"}
)
_FIELD_CALLS = frozenset(
    {"dataclasses.field", "attr.ib", "attr.attrib", "attr.field", "attrs.field", "pydantic.Field"}
)
_NN_BASES = frozenset(
    {
        "torch.nn.Module",
        "torch.nn.modules.module.Module",
        "pytorch_lightning.LightningModule",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "keras.Model",
        "keras.layers.Layer",
        "tensorflow.keras.Model",
        "tensorflow.keras.layers.Layer",
        "flax.linen.Module",
        "torch.utils.data.Dataset",
    }
)


@dataclass(frozen=True)
class _Default:
    key: tuple[str, ...]  # where the parameter lives and its name
    name: str  # as shown in the message
    value: object  # the literal, evaluated
    text: str  # as written
    line: int  # the line of the value
    tuned: bool  # whether it is a tuned parameter of training or evaluation code
    span: tuple[int, int, int, int] | None = None  # where the value is written


def check_change(change: Change, ctx: RepositoryContext) -> None:
    if change.read_base is None:
        return
    for path in sorted(change.added):
        if not path.endswith(".py") or _CONFIG_FOLDERS.search(path):
            continue
        facts = change.repository.facts.get(path)
        if facts is None or facts.is_test:
            continue
        if not any(root in _ML_LIBRARIES for _, root in facts.imports):
            continue
        base = change.read_base(path)
        if base is None:
            continue
        text = ctx.read(path)
        changed = _changed(path, text, base, change.added[path])
        if not changed:
            continue
        changes = ", ".join(f"{d.name}: {old.text} -> {d.text}" for d, old in changed)
        first = min(d.line for d, _ in changed)
        snippet = text.splitlines()[first - 1].strip()
        ctx.report(path, first, snippet, plural="s" if len(changed) > 1 else "", changes=changes)


def _changed(
    path: str, text: str, base: str, added: frozenset[int]
) -> list[tuple[_Default, _Default]]:
    """The tuned defaults of the file that the change edited, each with its base version."""
    if _RECORDS_ITSELF.search(text):
        return []  # each run keeps a copy of the script: its defaults are recorded
    now = _defaults(text, path)
    if now is None:
        return []
    before = _previous(now, _defaults(base, path) or [])
    return [
        (d, old)
        for d in now
        if d.tuned
        and d.line in added
        and (old := before.get(d.key)) is not None
        and not _same(d.value, old.value)
    ]


def _previous(now: list[_Default], base: list[_Default]) -> dict[tuple[str, ...], _Default]:
    """Each default's value at the base: under the same key, or, when its function or class
    was renamed (its key is gone), the base's one default of that kind and parameter name,
    given to the first new owner of it in the file (``Loss`` renamed ``LossBinary``, with a
    ``LossMulti`` added below it). A parameter that is itself renamed has no previous value."""
    before = {d.key: d for d in base}
    found = {d.key: before[d.key] for d in now if d.key in before}
    keys_now = {d.key for d in now}

    def loose(d: _Default) -> tuple[str, str]:
        return d.key[0], d.key[-1]

    counts_base = Counter(loose(d) for d in base)
    orphans = {loose(d): d for d in base if counts_base[loose(d)] == 1 and d.key not in keys_now}
    for d in sorted(now, key=lambda d: d.line):
        old = orphans.pop(loose(d), None) if d.key not in before else None
        if old is not None:
            found[d.key] = old
    return found


def _same(a: object, b: object) -> bool:
    """Whether two literals give the same behaviour: equal values (``1``, ``1.0`` and
    ``True`` alike), or ``None`` for an empty container (the fix of a mutable default)."""
    if a is None or b is None:
        return a is b or (a if b is None else b) in ({}, [], ())
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        # ``unet11`` and ``UNet11``: one name respelled, as the code that reads it was.
        return _spelling(a) == _spelling(b)
    return type(a) is type(b) and a == b


def _spelling(name: str) -> str:
    return re.sub(r"[-_ ]", "", name).lower()


def _defaults(text: str, path: str) -> list[_Default] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    names = _imports(tree)
    stem = path.rpartition("/")[2].removesuffix(".py")
    entry = bool(_ENTRY_POINT.search(stem)) or "__main__" in text
    lines = text.splitlines(keepends=True)
    return [replace(d, text=_written(lines, d) or d.text) for d in _walk(tree, names, (), entry)]


def _written(lines: list[str], default: _Default) -> str | None:
    """The default's value as the file writes it (``1e-3``, not ``0.001``)."""
    if default.span is None:
        return None
    line, column, end_line, end_column = default.span
    if line != end_line:
        return None
    return lines[line - 1].encode()[column:end_column].decode(errors="replace")


def _imports(tree: ast.Module) -> dict[str, str]:
    """The module-level names the file's imports bind, with what they stand for."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _qualified(node: ast.expr, names: dict[str, str]) -> str:
    """A name or attribute chain as the imports spell it (``nn.Module`` -> torch.nn.Module)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        node = node.func
        return _qualified(node, names)
    if not isinstance(node, ast.Name):
        return ""
    head = names.get(node.id, node.id)
    return ".".join([head, *reversed(parts)])


def _literal(node: ast.expr | None) -> tuple[object, str] | None:
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value, ast.unparse(node)  # _defaults puts the text as written in its place


def _counts(name: str, value: object, owner_tuned: bool) -> bool:
    """Whether a parameter with this name and value is tuned: its name says so, or it is a
    number or flag of code that trains or evaluates."""
    if _OPERATIONAL.search(name) and not _TUNED.fullmatch(name):
        return False
    if isinstance(value, str):
        # A path, a device or a name is not tuned; a choice of optimiser or model may be.
        if "/" in value or "\\" in value or re.search(r"\.\w{1,5}$", value):
            return False
        return bool(_TUNED.search(name))
    if value is not None and not isinstance(value, (int, float, bool, tuple, list)):
        return False
    # Of code that trains or evaluates, any number or flag; None and containers only when the
    # name says what they are.
    return bool(_TUNED.search(name)) or (owner_tuned and isinstance(value, (int, float)))


def _walk(
    body_of: ast.AST, names: dict[str, str], scope: tuple[str, ...], entry: bool
) -> Iterator[_Default]:
    for node in ast.iter_child_nodes(body_of):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            owner = bool(_TUNED_OWNER.search(node.name)) or bool(
                scope and _TUNED_OWNER.search(scope[-1])
            )
            yield from _parameters(node, scope, owner, names)
            yield from _walk(node, names, (*scope, node.name), entry)
        elif isinstance(node, ast.ClassDef):
            bases = {_qualified(b, names) for b in node.bases}
            decorators = {_qualified(d, names) for d in node.decorator_list}
            module = bool(bases & _NN_BASES)
            if decorators & _DATACLASS_DECORATORS or bases & _MODEL_BASES:
                yield from _fields(node, scope, names, entry or module)
            inner = (*scope, node.name if not module else f"{node.name}Module")
            yield from _walk(node, names, inner, entry)
        elif isinstance(node, ast.Call):
            yield from _argument(node, scope, entry)
            yield from _walk(node, names, scope, entry)
        elif isinstance(node, ast.Assign) and not scope:
            yield from _constant(node)
            yield from _walk(node, names, scope, entry)
        else:
            yield from _walk(node, names, scope, entry)


def _parameters(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    scope: tuple[str, ...],
    owner: bool,
    names: dict[str, str],
) -> Iterator[_Default]:
    arguments = node.args
    positional = [*arguments.posonlyargs, *arguments.args]
    first = len(positional) - len(arguments.defaults)
    pairs = list(zip(positional[first:], arguments.defaults, strict=True))
    keywords = zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    pairs += [(a, d) for a, d in keywords if d is not None]
    for argument, default in pairs:
        found = _literal(default)
        if found is None:
            continue
        value, text = found
        yield _Default(
            ("def", *scope, node.name, argument.arg),
            argument.arg,
            value,
            text,
            default.lineno,
            _counts(argument.arg, value, owner),
            _span(default),
        )


def _fields(
    node: ast.ClassDef, scope: tuple[str, ...], names: dict[str, str], owner: bool
) -> Iterator[_Default]:
    owner = owner or bool(_TUNED_OWNER.search(node.name)) or "arg" in node.name.lower()
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        value = statement.value
        if isinstance(value, ast.Call) and _qualified(value.func, names) in _FIELD_CALLS:
            given = [k.value for k in value.keywords if k.arg == "default"]
            value = given[0] if given else (value.args[0] if value.args else None)
        found = _literal(value)
        if found is None or value is None:
            continue
        name = statement.target.id
        yield _Default(
            ("field", *scope, node.name, name),
            name,
            found[0],
            found[1],
            value.lineno,
            _counts(name, found[0], owner),
            _span(value),
        )


def _argument(node: ast.Call, scope: tuple[str, ...], entry: bool) -> Iterator[_Default]:
    if not (isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"):
        return
    default = next((k.value for k in node.keywords if k.arg == "default"), None)
    found = _literal(default)
    if found is None or default is None:
        return
    dest = next((k.value for k in node.keywords if k.arg == "dest"), None)
    flags = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
        name = dest.value
    elif flags:
        name = max(flags, key=lambda f: (f.startswith("--"), len(f))).lstrip("-")
    else:
        return
    key = name.replace("-", "_")
    yield _Default(
        ("arg", *scope, key),
        key,
        found[0],
        found[1],
        default.lineno,
        _counts(key, found[0], entry),
        _span(default),
    )


def _constant(node: ast.Assign) -> Iterator[_Default]:
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
        return
    name = node.targets[0].id
    if not _CONSTANT.match(name):
        return
    found = _literal(node.value)
    if found is None:
        return
    yield _Default(
        ("const", name),
        name,
        found[0],
        found[1],
        node.value.lineno,
        _counts(name.lower(), found[0], False),
        _span(node.value),
    )


def _span(node: ast.expr) -> tuple[int, int, int, int] | None:
    if node.end_lineno is None or node.end_col_offset is None:
        return None
    return node.lineno, node.col_offset, node.end_lineno, node.end_col_offset
