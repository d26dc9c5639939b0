"""
What it does
------------
Flags an abstract base class (one that lists ``ABC`` among its bases) that exactly one class in
the whole repository inherits from. A subclass in a test (a fake for testing) counts as a second
implementation. The one implementation may live in another file, or in the same file when the
class is public and its module importable: only the whole repository can tell that nothing else
implements it. Scripts and private classes with their implementation beside them are DEBT203's;
``Protocol`` classes are left alone, since their implementations do not inherit from them.

Modules whose name says they define an extension point are skipped, through the
``plugin-modules`` option (default ``base``, ``bases``, ``abstract``, ``interface``,
``interfaces``, ``protocols``, ``abc``, ``plugins``, ``registry``), as are classes in test files.

Why is this bad?
----------------
An abstract class with a single implementation is a promise of variation that has not happened.
Every reader must now look in two files to learn what one class does, every signature change is
made twice, and the abstraction fixes an interface before a second use has shown what the
interface should be. Adding the base class when the second implementation arrives costs little
and is informed by both.

Example
-------
.. code-block:: python

    # churn/scoring.py
    class Scorer(ABC):
        @abstractmethod
        def score(self, frame): ...

    # churn/logistic.py: the only subclass in the repository
    class LogisticScorer(Scorer):
        def score(self, frame):
            return self.model.predict_proba(frame)[:, 1]

Use instead
-----------
Use the concrete class directly; introduce the base class (or a ``Protocol`` for type checking)
when a second implementation exists.

References
----------
- The article's "over-abstraction": structures built for a future that may never come.
- pylint dropped its same-file version of this check (R0921) because a library's base class is
  often implemented elsewhere; this rule looks across the repository instead.
"""

from __future__ import annotations

from rules import Example, FileFacts, Repository, RepositoryContext, Rule, definition_line

_BASE = "from abc import ABC, abstractmethod\n\n\nclass Scorer(ABC):\n    @abstractmethod\n    def score(self, frame):\n        ...\n"
_IMPLEMENTATION = "from churn.scoring import Scorer\n\n\nclass LogisticScorer(Scorer):\n    def score(self, frame):\n        return frame\n"

RULE = Rule(
    code="DEBT204",
    name="single-implementation-in-repository",
    principle="over-abstraction",
    severity="info",
    message="Use `{implementation}` directly instead of the abstract `{name}`, its only implementation in the repository.",
    options={
        "plugin-modules": [
            "base",
            "bases",
            "abstract",
            "interface",
            "interfaces",
            "protocols",
            "abc",
            "plugins",
            "registry",
        ]
    },
    valid=(
        # Near miss: a second implementation, even a test fake, earns the base class.
        Example(
            _BASE,
            path="churn/scoring.py",
            others=(
                ("churn/logistic.py", _IMPLEMENTATION),
                (
                    "tests/test_scoring.py",
                    "from churn.scoring import Scorer\n\n\nclass FakeScorer(Scorer):\n    pass\n",
                ),
            ),
        ),
        # Near miss: an extension point in a module named for it.
        Example(_BASE, path="churn/base.py", others=(("churn/logistic.py", _IMPLEMENTATION),)),
        # Near miss: no implementation at all yet (another conversation).
        Example(_BASE, path="churn/scoring.py"),
        # Near miss: both in one script, outside any package: DEBT203 reads that file whole.
        Example(_BASE + "\n\n" + _IMPLEMENTATION.split("\n\n\n", 1)[1], path="score.py"),
    ),
    invalid=(
        Example(
            _BASE,
            path="churn/scoring.py",
            line=4,
            others=(("churn/logistic.py", _IMPLEMENTATION),),
        ),
        # The base and its one implementation in one importable module.
        Example(
            _BASE + "\n\n" + _IMPLEMENTATION.split("\n\n\n", 1)[1],
            path="churn/scoring.py",
            line=4,
            files=("churn/__init__.py",),
        ),
        Example(
            "import abc\n\n\nclass Loader(abc.ABC):\n    @abc.abstractmethod\n    def load(self):\n        ...\n",
            path="etl/loaders.py",
            line=4,
            others=(
                (
                    "etl/csv_loader.py",
                    "from etl import loaders\n\n\nclass CsvLoader(loaders.Loader):\n    def load(self):\n        return []\n",
                ),
            ),
        ),
    ),
)


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    subclasses: dict[str, list[tuple[str, str]]] = {}
    for facts in repository.facts.values():
        for cls in facts.classes:
            for base in cls.bases:
                subclasses.setdefault(base.rsplit(".", 1)[-1], []).append((facts.path, cls.name))
    plugin_modules = set(ctx.options["plugin-modules"])
    for facts in repository.facts.values():
        stem = facts.path.rsplit("/", 1)[-1].removesuffix(".py")
        if facts.is_test or stem in plugin_modules:
            continue
        for cls in facts.classes:
            if not any(base.rsplit(".", 1)[-1] == "ABC" for base in cls.bases):
                continue
            implementations = subclasses.get(cls.name, [])
            if len(implementations) != 1:
                continue
            if implementations[0][0] == facts.path and not _public_api(cls.name, facts, repository):
                continue  # a script's or a private class: DEBT203 reads that file whole
            line = definition_line(ctx.read(facts.path), "class", cls.name) or 1
            ctx.report(
                facts.path,
                line,
                f"class {cls.name}",
                name=cls.name,
                implementation=implementations[0][1],
            )


def _public_api(name: str, facts: FileFacts, repository: Repository) -> bool:
    """A public class of an importable module: other code may implement it, so only the whole
    repository can tell it has one implementation (DEBT203 leaves such classes alone)."""
    return not name.startswith("_") and repository.in_package(facts.path)
