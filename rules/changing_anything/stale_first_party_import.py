"""
What it does
------------
Flags an import of a module of the repository, or of a name from one, that the repository no
longer provides: ``from churn.features import add_tenure`` when ``churn/features.py`` defines no
``add_tenure`` (it was renamed or removed), ``import churn.legacy`` when ``churn/legacy.py`` is
gone. Relative imports (``from .features import add_tenure``) are resolved against the file's
package.

On a change (``debtbot diff`` and pull-request reviews) it reports what the change can be
asked about: an import the change adds or edits, on that line, and an import elsewhere of a
name a changed module does not define, on the module's first changed line, naming the file
that still imports it. A change that only deletes lines of the module, or deletes or renames
the module's file, leaves no changed line there to comment on: ``debtbot check``, which reports
every such import on its line, finds those. The rule cannot tell a name this change removed
from one that was gone before it, so a module's change may also hear of an older broken import.

It stays quiet whenever it cannot be sure which file an import loads or what that file
defines: modules that get names at run time (a star import, a module ``__getattr__``,
``globals()``, ``sys.modules``), files that edit ``sys.path`` (or sit under a ``conftest.py``
that does), imports inside ``if TYPE_CHECKING:`` or inside a ``try`` that catches ImportError,
namespace packages, names of the standard library, vendored folders, modules that look
generated at build time (``_version``, ``*_pb2``, compiled ``_ext`` modules, stubs), modules each
user writes from a template (``config.py`` next to ``config_template.py``), and names another
file sets on the module from outside (``setattr``, ``pkg.mod.NAME = ...``).

Why is this bad?
----------------
Renaming a function or moving a module is safe only if every caller moves with it. The callers
that get forgotten are the ones nothing runs on every change: the evaluation script, the
one-off export job, a test that is skipped, the notebook helper. Python tells nobody until that
file runs, and then it fails at its first line with ImportError, often weeks later and in front
of someone who did not make the change.

Example
-------
.. code-block:: python

    # churn/features.py, in the pull request: add_tenure became add_tenure_years
    def add_tenure_years(frame):
        return frame.assign(tenure_years=frame["tenure_days"] / 365.25)

    # scripts/backfill.py, untouched
    from churn.features import add_tenure

Use instead
-----------
Update every importer in the same change (or keep the old name as an alias while they move):

.. code-block:: python

    # scripts/backfill.py
    from churn.features import add_tenure_years

References
----------
- Sculley et al. (2015), "Hidden Technical Debt in Machine Learning Systems": changing one part
  of an ML system silently changes the parts that depend on it.
- Python documentation, "The import system": an import fails only when the importing code runs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from rules import Change, Example, FileFacts, Repository, RepositoryContext, Rule

_MODULE = """\
def add_tenure_years(frame):
    return frame.assign(tenure_years=frame["tenure_days"] / 365.25)
"""
_INIT = ("churn/__init__.py", "")

RULE = Rule(
    code="DEBT506",
    name="stale-first-party-import",
    principle="changing-anything",
    severity="error",
    facts=("modules",),
    # Off by default since the blind judgement of held-out repositories (benchmarks/precision.md,
    # issue 11): a rule must be right at least 80% of the time on code it was not tuned on.
    default_enabled=False,
    disabled_because="0 of 1 finding judged right on held-out repositories (issue 11), below 80%",
    message="Fix the import of {what} in `{importer}` (line {line}): {reason}, so that file fails with ImportError when it runs.",
    valid=(
        # The importer moved with the rename.
        Example(
            _MODULE,
            path="churn/features.py",
            others=(
                _INIT,
                ("scripts/backfill.py", "from churn.features import add_tenure_years\n"),
            ),
        ),
        # Near miss: the name is a submodule of the package, not a name of its __init__.py.
        Example(
            "from churn import features\n\nfeatures.add_tenure_years\n",
            path="scripts/backfill.py",
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
        # Near miss: an optional import, handled when it fails.
        Example(
            "try:\n    from churn.features import add_tenure\nexcept ImportError:\n"
            "    add_tenure = None\n",
            path="scripts/backfill.py",
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
        # Near miss: the module takes names from elsewhere with a star import.
        Example(
            "from churn.features import add_tenure\n",
            path="scripts/backfill.py",
            others=(
                _INIT,
                ("churn/features.py", "from churn._features import *\n"),
                ("churn/_features.py", "def add_tenure(frame):\n    return frame\n"),
            ),
        ),
        # Near miss: the file edits sys.path, so `churn` may be another folder's.
        Example(
            "import sys\n\nsys.path.insert(0, 'legacy')\nfrom churn.features import add_tenure\n",
            path="scripts/backfill.py",
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
        # Near miss: only read by the type checker.
        Example(
            "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
            "    from churn.features import Frame\n",
            path="scripts/backfill.py",
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
        # Near miss: a folder that is no package may be shadowed by an installed one.
        Example(
            "from datasets import load_dataset\n",
            path="train.py",
            others=(("datasets/prepare.py", "def prepare():\n    pass\n"),),
        ),
    ),
    invalid=(
        # The renamed function's module changed; the script that imports it did not.
        Example(
            _MODULE,
            path="churn/features.py",
            line=1,
            others=(_INIT, ("scripts/backfill.py", "from churn.features import add_tenure\n")),
        ),
        # The change adds an import of a name the module does not define.
        Example(
            "import pandas as pd\n\nfrom .features import add_tenure\n",
            path="churn/train.py",
            line=3,
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
        # The change imports a module of the package that is not there (any more).
        Example(
            "import churn.legacy_features\n",
            path="tests/test_backfill.py",
            line=1,
            others=(_INIT, ("churn/features.py", _MODULE)),
        ),
    ),
)

_VENDORED = re.compile(
    r"(^|/)(vendor|vendored|_vendor|third_party|thirdparty|third-party|external|extern)(/|$)"
)
# Modules written at build or install time, or compiled: absent from the repository by design.
_GENERATED = re.compile(r"^_|_pb2|pb2_grpc|version|generated|_ext$|_C$|cython|cuda", re.I)
# Modules each user writes from a template, kept out of git: settings, secrets, credentials.
_USER_WRITTEN = re.compile(r"config|settings|secret|credential|local|private|keys?$|token", re.I)
# Folders the engine never reads (see the default excludes): their modules look missing.
_UNREAD = frozenset({"build", "dist", "venv", ".venv", "site-packages", "node_modules"})


@dataclass(frozen=True)
class Broken:
    importer: str
    line: int
    module: str  # as written, dots included
    name: str  # empty for ``import module``
    reason: str
    # The file that lacks the name (None when a module is missing): where a change that
    # removed it would have touched.
    lacking: str | None


def check_repository(repository: Repository, ctx: RepositoryContext) -> None:
    for broken in broken_imports(repository):
        _report_on_import(broken, ctx)


def check_change(change: Change, ctx: RepositoryContext) -> None:
    touched = {path for path, lines in change.added.items() if lines}
    said_in_module: set[tuple[str, str]] = set()
    for broken in broken_imports(change.repository):
        if broken.line in change.added.get(broken.importer, frozenset()):
            _report_on_import(broken, ctx)
        elif broken.lacking in touched and broken.lacking != broken.importer:
            key = (broken.lacking, f"{broken.importer}:{broken.line}:{broken.name}")
            if key in said_in_module:
                continue
            said_in_module.add(key)
            ctx.report(
                broken.lacking,
                _first_code_line(ctx.read(broken.lacking), change.added[broken.lacking]),
                f"{broken.importer} imports {broken.module}.{broken.name}",
                what=_what(broken),
                importer=broken.importer,
                line=broken.line,
                reason=broken.reason,
            )


def _report_on_import(broken: Broken, ctx: RepositoryContext) -> None:
    ctx.report(
        broken.importer,
        broken.line,
        f"import {broken.name} from {broken.module}",
        what=_what(broken),
        importer=broken.importer,
        line=broken.line,
        reason=broken.reason,
    )


def _what(broken: Broken) -> str:
    if broken.name:
        return f"`{broken.name}` from `{broken.module}`"
    return f"`{broken.module}`"


def _first_code_line(text: str, added: frozenset[int]) -> int:
    lines = text.splitlines()
    for number in sorted(added):
        if 0 < number <= len(lines) and lines[number - 1].strip():
            return number
    return min(added)


def broken_imports(repository: Repository) -> Iterator[Broken]:
    """Every import of a first-party module or name the repository does not provide, as far
    as can be told for sure."""
    layout = _Layout(repository.files, repository.facts)
    for path, facts in sorted(repository.facts.items()):
        if not facts.module.imports or not layout.trusted_importer(path, facts):
            continue
        said: set[tuple[int, str]] = set()
        for item in facts.module.imports:
            found = layout.judge(path, item.level, item.module, item.name)
            if found is None:
                continue
            reason, lacking = found
            written = "." * item.level + item.module
            if lacking is None:  # a missing module: once per statement, not once per name
                if (item.line, reason) in said:
                    continue
                said.add((item.line, reason))
                yield Broken(path, item.line, written, "", reason, None)
            else:
                yield Broken(path, item.line, written, item.name, reason, lacking)


@dataclass(frozen=True)
class _Place:
    kind: str  # "module", "package", "namespace"
    path: str  # the file (module or __init__.py), or the folder of a namespace package
    folder: str  # the package's folder ("" for a module)


@dataclass
class _Layout:
    files: frozenset[str]
    facts: Mapping[str, FileFacts]

    @cached_property
    def folders(self) -> frozenset[str]:
        found = set()
        for path in self.files:
            parts = path.split("/")[:-1]
            for end in range(1, len(parts) + 1):
                found.add("/".join(parts[:end]))
        return frozenset(found)

    @cached_property
    def stems(self) -> frozenset[str]:
        """Every file's path without its extensions: a module may be a stub, a Cython source
        or a compiled library rather than a .py file."""
        stems = set()
        for path in self.files:
            folder, _, name = path.rpartition("/")
            stems.add(_join(folder, name.split(".", 1)[0]))
        return frozenset(stems)

    @cached_property
    def injected(self) -> frozenset[str]:
        """Names some file may add to a module from outside."""
        return frozenset().union(*(facts.module.injects for facts in self.facts.values()))

    @cached_property
    def path_hack_folders(self) -> tuple[str, ...]:
        return tuple(
            path.rpartition("/")[0]
            for path, facts in self.facts.items()
            if path.rsplit("/", 1)[-1] == "conftest.py" and facts.module.path_hack
        )

    def trusted_importer(self, path: str, facts: FileFacts) -> bool:
        if facts.module.path_hack or _VENDORED.search(path):
            return False
        return not any(_within(path, folder) for folder in self.path_hack_folders)

    def is_package(self, folder: str) -> bool:
        return _join(folder, "__init__.py") in self.files

    def place(self, base: str, dotted: str) -> tuple[_Place | None, int]:
        """Where ``dotted`` lives below ``base``, or None and the index of the first part that
        is not there."""
        parts = dotted.split(".")
        folder = base
        for index, part in enumerate(parts):
            current = _join(folder, part)
            last = index == len(parts) - 1
            if self.is_package(current):
                if last:
                    return _Place("package", _join(current, "__init__.py"), current), -1
            elif current in self.folders:
                if last:
                    return _Place("namespace", current, current), -1
            elif last and f"{current}.py" in self.files:
                return _Place("module", f"{current}.py", ""), -1
            else:
                return None, index
            folder = current
        return None, 0  # an empty module path: not asked

    def bases(self, importer: str) -> list[str]:
        """The folders an absolute import of ``importer`` is looked for in, as far as the
        repository tells: the folder above its package (or its own folder, for a script)."""
        folder = importer.rpartition("/")[0]
        while folder and self.is_package(folder):
            folder = folder.rpartition("/")[0]
        return [folder]

    def judge(
        self, importer: str, level: int, module: str, name: str
    ) -> tuple[str, str | None] | None:
        """Why the import fails, and the file that lacks the name; None when it works or
        cannot be told."""
        if level:
            folder = importer.rpartition("/")[0]
            for _ in range(level - 1):
                if not folder:
                    return None
                folder = folder.rpartition("/")[0]
            if not self.is_package(folder):
                return None  # a relative import outside a package: run some other way
            if not module:
                return self._name_in(
                    _Place("package", _join(folder, "__init__.py"), folder), name, module or "."
                )
            return self._resolved(folder, module, name, relative=True)
        top = module.split(".", 1)[0]
        if top in sys.stdlib_module_names or top == "__future__":
            return None
        verdicts = []
        for base in self._candidate_bases(importer, top):
            verdicts.append(self._resolved(base, module, name, relative=False))
        if not verdicts or any(v is None for v in verdicts):
            return None
        return verdicts[0]

    def _candidate_bases(self, importer: str, top: str) -> list[str]:
        """The bases below which ``top`` exists as a module or a regular package. The root and
        src/ count only for regular packages: a lone ``utils.py`` there may not be on the
        path of a script elsewhere, where an installed module of that name would load."""
        own = self.bases(importer)
        found = []
        for base in dict.fromkeys([*own, "", "src"]):
            current = _join(base, top)
            if self.is_package(current):
                found.append(base)
            elif current in self.folders:
                return []  # a namespace package may have portions anywhere
            elif f"{current}.py" in self.files and base in own:
                found.append(base)
        return found

    def _resolved(
        self, base: str, module: str, name: str, relative: bool
    ) -> tuple[str, str | None] | None:
        where, missing = self.place(base, module)
        if where is None:
            if missing == 0 and not relative:
                return None  # the top level is not ours
            return self._missing_module(base, module, missing)
        if not name:
            return None
        return self._name_in(where, name, module)

    def _missing_module(
        self, base: str, module: str, missing: int
    ) -> tuple[str, str | None] | None:
        parts = module.split(".")
        gone = parts[missing]
        parent = _join(base, "/".join(parts[:missing])) if missing else base
        if _GENERATED.search(gone) or gone in _UNREAD or gone in self.injected:
            return None  # generated, unread, or put in sys.modules by a shim
        if _join(parent, gone) in self.stems or _USER_WRITTEN.search(gone):
            return None  # a stub, an extension module, a .pyx; a file each user writes
        if any(sibling.startswith(_join(parent, gone)) for sibling in self.files):
            return None  # config_template.py: copied to config.py, which git ignores
        if parent != base and not self.is_package(parent):
            return None  # below a plain module or a namespace folder: cannot tell
        init = _join(parent, "__init__.py")
        facts = self.facts.get(init)
        if parent != base and (facts is None or facts.module.dynamic):
            return None  # the package may make its submodules up
        dotted = ".".join(parts[: missing + 1])
        return f"the repository has no module `{dotted}`", None

    def _name_in(self, where: _Place, name: str, module: str) -> tuple[str, str | None] | None:
        if where.kind == "namespace":
            return None
        if where.folder and (
            _join(where.folder, name) in self.folders
            or _join(where.folder, name) in self.stems
            or _GENERATED.search(name)
        ):
            return None  # a submodule, maybe one written at build time
        facts = self.facts.get(where.path)
        if facts is None or facts.module.dynamic or name in facts.module.defines:
            return None
        if name in self.injected:
            return None  # set on the module from elsewhere (a deprecation shim, a patch)
        return f"`{where.path}` does not define `{name}`", where.path


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _within(path: str, folder: str) -> bool:
    return not folder or path.startswith(folder + "/")
