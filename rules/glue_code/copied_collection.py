"""
What it does
------------
Flags a list, tuple, set or dict of constants that a change writes (or edits) in one file when
another first-party file binds the very same items: the experiment names a blending script
and a stacking script both list, the feature columns of a training and a serving script, the
class names of a model and of its evaluation. The items are compared, not the names they are
bound to, in any order and whatever the kind of collection (a list in one file, a tuple in the
other). Only collections of at least three distinct items are counted, made of strings (a dict:
string keys and constant values); lists of numbers, single letters and the names of data
splits (``train``, ``val``, ``test``) are left alone, as are ``__all__``, tests, vendored
folders, and files the repository keeps apart on purpose (separate projects, examples,
snapshots of a course, standalone copies: as for DEBT804). ``debtbot check`` reports each group
of copies in every file but the first, in path order.

Why is this bad?
----------------
A hand-kept list in several scripts is a configuration with several sources of truth. The next
experiment added to the ensemble, the next feature column or the next class is added in one
script and forgotten in another, and the two then work on different sets without any error: a
blend over six models where the stacking trained on seven, a serving script that drops the
column the model was trained with.

Example
-------
.. code-block:: python

    # stacking_predict.py; train_stacking.py and blend_predict.py list the same runs
    EXPERIMENTS = [
        "auxiliary_016",
        "auxiliary_019",
        "corr_noisy_003",
    ]

Use instead
-----------
Keep the collection in one module (or one configuration file) and import it everywhere:

.. code-block:: python

    # src/experiments.py
    EXPERIMENTS = ["auxiliary_016", "auxiliary_019", "corr_noisy_003"]

    # stacking_predict.py
    from src.experiments import EXPERIMENTS

References
----------
- Sculley et al., "Hidden Technical Debt in Machine Learning Systems": configuration debt, and
  glue code that duplicates what should be defined once.
- Hunt and Thomas, "The Pragmatic Programmer": every piece of knowledge with a single,
  authoritative representation.
"""

from __future__ import annotations

from rules import Change, Example, FileFacts, Repository, RepositoryContext, Rule, literals
from rules.glue_code.copied_block import _LEFT_OUT, _Deliberate, _Layout

_RUNS = """\
EXPERIMENTS = [
    "auxiliary_016",
    "auxiliary_019",
    "corr_noisy_003",
    "corrections_002",
]
"""
_RUNS_AS_TUPLE = """\
RUNS = ("corrections_002", "corr_noisy_003", "auxiliary_019", "auxiliary_016")
"""
_COLUMNS = """\
import pandas as pd

FEATURES = {"age": "int", "income": "float", "region": "category"}


def load(path):
    return pd.read_csv(path, usecols=list(FEATURES), dtype=FEATURES)
"""

RULE = Rule(
    code="DEBT805",
    name="copied-collection",
    principle="glue-code",
    severity="info",
    facts=("collections",),
    default_enabled=False,
    disabled_because="new: 8 of 9 findings right on tuning repositories, not yet on held-out ones",
    message="Define `{name}` once and import it here: the same {items} items are also written out in {others}, so every edit must be repeated in each copy.",
    valid=(
        # Near miss: the second script imports the list instead of copying it.
        Example(
            "from experiments import EXPERIMENTS\n\nprint(EXPERIMENTS)\n",
            path="stacking_predict.py",
            others=(("experiments.py", _RUNS),),
        ),
        # Near miss: a different list of runs.
        Example(
            'EXPERIMENTS = ["auxiliary_016", "auxiliary_019", "corr_noisy_007"]\n',
            path="blend.py",
            others=(("stack.py", _RUNS),),
        ),
        # Near miss: data splits, named alike everywhere.
        Example(
            'SPLITS = ["train", "val", "test"]\n',
            path="predict.py",
            others=(("train.py", 'SPLITS = ("train", "val", "test")\n'),),
        ),
        # Near miss: numbers, not names.
        Example(
            "MEAN = [0.485, 0.456, 0.406]\n",
            path="a.py",
            others=(("b.py", "M = [0.485, 0.456, 0.406]\n"),),
        ),
        # Near miss: two example programs, each complete on its own.
        Example(_RUNS, path="examples/b/run.py", others=(("examples/a/run.py", _RUNS),)),
        # Near miss: a test repeats the list it checks.
        Example(_RUNS, path="tests/test_runs.py", others=(("runs.py", _RUNS),)),
    ),
    invalid=(
        Example(_RUNS, path="stacking_predict.py", others=(("blend_predict.py", _RUNS),)),
        # The same items reordered, as a tuple.
        Example(_RUNS_AS_TUPLE, path="train_stacking.py", others=(("blend_predict.py", _RUNS),)),
        # A dict of feature columns in the serving code and in training.
        Example(_COLUMNS, path="serve.py", others=(("train.py", _COLUMNS),)),
    ),
)


def check_change(change: Change, ctx: RepositoryContext) -> None:
    repository = change.repository
    copies = _copies(repository)
    if not copies:
        return
    layout = _Layout.of(repository)
    deliberate = _Deliberate(ctx.read)
    for path in sorted(change.added):
        facts = repository.facts.get(path)
        if facts is None or not _eligible(facts) or deliberate(path):
            continue
        added = change.added[path]
        for collection in facts.collections:
            lines = [n for n in range(collection.line, collection.end + 1) if n in added]
            if not lines or collection.hash not in copies:
                continue
            others = sorted(
                {
                    other
                    for other in copies[collection.hash]
                    if other != path and not layout.apart(path, other) and not deliberate(other)
                }
            )
            if others:
                _report(ctx, path, lines[0], collection, others)


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    copies = _copies(repository)
    if not copies:
        return
    layout = _Layout.of(repository)
    deliberate = _Deliberate(ctx.read)
    for path in sorted(repository.facts):
        facts = repository.facts[path]
        if not _eligible(facts) or deliberate(path):
            continue
        for collection in facts.collections:
            earlier = sorted(
                {
                    other
                    for other in copies.get(collection.hash, ())
                    if other < path and not layout.apart(path, other) and not deliberate(other)
                }
            )
            if earlier:
                _report(ctx, path, collection.line, collection, earlier)


def _copies(repository: Repository) -> dict[int, set[str]]:
    """The collections found in more than one eligible file: the files of each."""
    where: dict[int, set[str]] = {}
    for path, facts in repository.facts.items():
        if _eligible(facts):
            for collection in facts.collections:
                where.setdefault(collection.hash, set()).add(path)
    return {h: paths for h, paths in where.items() if len(paths) > 1}


def _eligible(facts: FileFacts) -> bool:
    return bool(facts.collections) and not facts.is_test and not _LEFT_OUT.search(facts.path)


def _report(
    ctx: RepositoryContext,
    path: str,
    line: int,
    collection: literals.LiteralCollection,
    others: list[str],
) -> None:
    text = ctx.read(path).splitlines()
    named = [f"`{other}`" for other in others[:3]]
    if len(others) > 3:
        named.append(f"{len(others) - 3} more files")
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    ctx.report(
        path,
        line,
        text[line - 1].strip() if line <= len(text) else "",
        name=collection.name,
        items=collection.items,
        others=listed,
    )
