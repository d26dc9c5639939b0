"""
What it does
------------
Off by default: select it by its code (``select = ["DEBT", "DEBT804"]``).
Flags a block of code that a change adds and that repeats, statement for statement, a block
that already lives elsewhere in the repository: in another script or module, or in another
function of the same file. The copy may rename variables and change constants; it is still the
same code. The finding sits on the first added line of the copy and names where the other copy
lives. Like other change rules it runs in ``debtbot diff`` and pull-request reviews; ``debtbot
check`` reports, of every group of copies, each one after the first in path order.

Copies are found the way MOSS finds them (winnowed fingerprints of the normalised tokens, see
``rules/engine/clones.py``), over blocks of at least ``min-lines`` lines of code (default 10).
Left out: imports, argparse declarations, docstrings, lines that only hold data (entries of a
list of constants or a dict of settings), test files, generated files, vendored and migration
folders, and code repeated in more than eight places (boilerplate). Code in two separate
projects of one repository (each folder with its own ``requirements.txt``, ``pyproject.toml``,
``setup.py`` or ``environment.yml``, as in a repository of independent examples) is not
compared.

Option: ``min-lines`` (default 10), the lines of code (blank and comment lines not counted)
a copied block must have.

Why is this bad?
----------------
Two copies of a training loop or a preprocessing step drift apart: the next bug fix, the next
change of metric or of data format, is made in one of them and forgotten in the other, and
the two scripts quietly train or evaluate different things. The reviewer of the copy cannot
tell which differences are intended. In ML repositories the usual case is a second training
script started by copying the first.

Example
-------
.. code-block:: python

    # train_finetune.py, added by the pull request; train.py holds the same loop
    for epoch in range(epochs):
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
        ...

Use instead
-----------
Move the shared code into one function that both scripts import, with what differs as
arguments:

.. code-block:: python

    # training.py
    def train_epochs(model, loader, optimizer, criterion, epochs): ...

    # train_finetune.py
    from training import train_epochs

    train_epochs(model, train_loader, optimizer, criterion, epochs=3)

References
----------
- Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for document fingerprinting"
  (SIGMOD 2003): the fingerprints, as MOSS uses them.
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": glue code and
  experimental code paths that multiply.
- pylint ``R0801`` (duplicate-code), PMD CPD: copy detection for general code.
"""

from __future__ import annotations

import re

from rules import Change, Example, Repository, RepositoryContext, Rule, clones

_LOOP = """\
import torch


def train(model, loader, optimizer, criterion, epochs):
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for images, labels in loader:
            images = images.to("cuda")
            labels = labels.to("cuda")
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            total += loss.item()
        print(f"epoch {epoch}: loss {total / len(loader):.4f}")
        torch.save(model.state_dict(), f"checkpoints/epoch_{epoch}.pt")
    return model
"""
# The same loop with other names and constants, at the top level of a script.
_RENAMED = """\
import torch

from models import build_model

net = build_model()
opt = torch.optim.SGD(net.parameters(), lr=0.1)
loss_fn = torch.nn.CrossEntropyLoss()
for ep in range(20):
    net.train()
    running = 0.0
    for x, y in train_loader:
        x = x.to("cuda:1")
        y = y.to("cuda:1")
        opt.zero_grad()
        out = net(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        running += loss.item()
    print(f"epoch {ep}: loss {running / len(train_loader):.4f}")
    torch.save(net.state_dict(), f"ckpt/{ep}.pt")
"""
_OTHER_LOOP = """\
def evaluate(model, loader, metric):
    model.eval()
    with torch.no_grad():
        for images, labels in loader:
            metric.update(model(images).argmax(1), labels)
    return metric.compute()
"""
_ARGS = """\
import argparse


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=str, default="data/train.csv")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=str, default="models/")
    parser.add_argument("--device", type=str, default="cuda")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--resume", action="store_true")
    return parser.parse_args()
"""

RULE = Rule(
    code="DEBT804",
    name="copied-block",
    principle="glue-code",
    severity="info",
    message="Move this block and its copy in `{other}` (lines {lines}) into one function both call: a fix made in one copy would be missed in the other.",
    options={"min-lines": 10},
    # Off until it can tell teaching material from product code: on yolov5, kaggle_otto,
    # kaggle-heart and Made-With-ML the copies it found were real, but in course and tutorial
    # repositories (mlops-zoomcamp's cohorts, pytorch/examples' tutorial series) copies are
    # snapshots made on purpose, and about 38 of some 240 findings were of that kind.
    default_enabled=False,
    disabled_because="about 84% right on the tuning repositories: course material copies on purpose",
    valid=(
        # Near miss: the new script calls the shared loop instead of copying it.
        Example(
            "from training import train\n\nmodel = train(build(), loader, opt, loss_fn, 20)\n",
            path="finetune.py",
            others=(("training.py", _LOOP),),
        ),
        # Near miss: a different loop of similar length.
        Example(_OTHER_LOOP * 1, path="evaluate.py", others=(("training.py", _LOOP),)),
        # Near miss: the same argparse declarations in two scripts.
        Example(_ARGS, path="predict.py", others=(("train.py", _ARGS),)),
        # Near miss: a copy in another project of the repository (its own requirements).
        Example(
            _LOOP,
            path="mnist/train.py",
            others=(("cifar/train.py", _LOOP), ("cifar/requirements.txt", "torch\n")),
            files=("mnist/requirements.txt",),
        ),
        # Near miss: tests repeat their setup on purpose.
        Example(_LOOP, path="tests/test_train_again.py", others=(("training.py", _LOOP),)),
    ),
    invalid=(
        Example(_LOOP, path="train_finetune.py", others=(("train.py", _LOOP),)),
        Example(_RENAMED, path="scripts/finetune.py", others=(("training.py", _LOOP),)),
        # Within one file: a second function repeating the first.
        Example(
            _LOOP + "\n\n" + _LOOP.replace("def train(", "def train_again(").split("\n", 2)[2],
            path="training.py",
        ),
    ),
)

_LEFT_OUT = re.compile(
    r"(^|/)(site-packages|third[_-]party|vendor(ed)?|_vendor|migrations|node_modules|build|dist)/"
    r"|_pb2(_grpc)?\.py$|(^|/)(setup|conftest|__init__)\.py$"
)
_PROJECT_FILES = re.compile(
    r"(^|/)(requirements[^/]*\.txt|pyproject\.toml|setup\.py|setup\.cfg|environment\.ya?ml|Pipfile)$"
)


def check_change(change: Change, ctx: RepositoryContext) -> None:
    repository = change.repository
    prints = _eligible(repository)
    index = clones.build_index(prints)
    projects = _projects(repository)
    for path in sorted(change.added):
        if path not in prints:
            continue
        added = change.added[path]
        found = []
        for clone in clones.clones_of(path, prints[path], index):
            if _project(path, projects) != _project(clone.other, projects):
                continue
            mine = sum(1 for n in range(clone.start, clone.end + 1) if n in added)
            if mine * 2 < clone.end - clone.start + 1:
                continue  # the change added little of this block: the copy is older
            theirs = change.added.get(clone.other, frozenset())
            both = all(n in theirs for n in (clone.other_start, clone.other_end))
            if both and (clone.other, clone.other_start) > (path, clone.start):
                continue  # two new copies: said once, on the second
            found.append(clone)
        _report(ctx, path, found, added)


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    prints = _eligible(repository)
    index = clones.build_index(prints)
    projects = _projects(repository)
    for path in sorted(prints):
        found = [
            clone
            for clone in clones.clones_of(path, prints[path], index)
            if (clone.other, clone.other_start) < (path, clone.start)
            and _project(path, projects) == _project(clone.other, projects)
        ]
        _report(ctx, path, found, None)


def _report(
    ctx: RepositoryContext, path: str, found: list[clones.Clone], added: frozenset[int] | None
) -> None:
    if not found:
        return
    source = ctx.read(path)
    text = source.splitlines()
    holding_code = clones.code_lines(source)
    least = int(ctx.options["min-lines"])
    for clone in clones.merge(found):
        code = [n for n in range(clone.start, clone.end + 1) if n in holding_code]
        if len(code) < least:
            continue
        line = next((n for n in code if added is None or n in added), code[0])
        lines = f"{clone.other_start}-{clone.other_end}"
        ctx.report(path, line, text[line - 1].strip(), other=clone.other, lines=lines)


def _eligible(repository: Repository) -> dict[str, tuple[clones.Fingerprint, ...]]:
    return {
        path: facts.fingerprints
        for path, facts in repository.facts.items()
        if facts.fingerprints and not facts.is_test and not _LEFT_OUT.search(path)
    }


def _projects(repository: Repository) -> frozenset[str]:
    """The folders that hold a project of their own (``""`` for the repository's root)."""
    return frozenset(
        path.rpartition("/")[0] for path in repository.files if _PROJECT_FILES.search(path)
    )


def _project(path: str, projects: frozenset[str]) -> str:
    folder = path.rpartition("/")[0]
    while folder:
        if folder in projects:
            return folder
        folder = folder.rpartition("/")[0]
    return ""
