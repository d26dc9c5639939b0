"""What the repository-level rules know about every file, and how they run.

Some debt only shows across files: a public function no test mentions, an abstraction with one
implementation somewhere else. Each Python file contributes a small, JSON-friendly summary
(:class:`FileFacts`), gathered during the engine's one walk and cacheable by content hash; the
repository rules then read only these summaries, never the trees.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property

import libcst as cst

from rules.finding import Finding, Skipped

_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$"
)
_MAX_STRING = 200  # longer literals are prose or data, never a name worth remembering


@dataclass(frozen=True)
class FunctionFact:
    name: str
    decorated: bool


@dataclass(frozen=True)
class ClassFact:
    name: str
    bases: tuple[str, ...]


@dataclass(frozen=True)
class FileFacts:
    path: str
    functions: tuple[FunctionFact, ...] = ()  # module level only
    classes: tuple[ClassFact, ...] = ()  # module level only
    names: frozenset[str] = frozenset()  # identifiers and attribute names the file uses
    strings: frozenset[str] = frozenset()  # short string literals

    @property
    def is_test(self) -> bool:
        return bool(_TEST_PATH.search(self.path))

    def mentions(self, name: str) -> bool:
        return name in self.names or name in self.strings

    def to_json(self) -> str:
        data = asdict(self)
        data["names"], data["strings"] = sorted(self.names), sorted(self.strings)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> FileFacts:
        data = json.loads(text)
        return cls(
            path=data["path"],
            functions=tuple(FunctionFact(**f) for f in data["functions"]),
            classes=tuple(ClassFact(f["name"], tuple(f["bases"])) for f in data["classes"]),
            names=frozenset(data["names"]),
            strings=frozenset(data["strings"]),
        )


@dataclass
class FactsCollector:
    """Fed by the engine's walk; turned into :class:`FileFacts` at the end of the file."""

    names: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)

    def name(self, node: cst.Name, _ctx: object) -> None:
        self.names.add(node.value)

    def string(self, node: cst.SimpleString, _ctx: object) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and len(value) <= _MAX_STRING:
            self.strings.add(value)

    def facts(self, path: str, module: cst.Module) -> FileFacts:
        functions, classes = [], []
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                functions.append(FunctionFact(statement.name.value, bool(statement.decorators)))
            elif isinstance(statement, cst.ClassDef):
                bases = tuple(
                    text for arg in statement.bases if (text := _dotted(arg.value)) is not None
                )
                classes.append(ClassFact(statement.name.value, bases))
        return FileFacts(
            path, tuple(functions), tuple(classes), frozenset(self.names), frozenset(self.strings)
        )


def _dotted(node: cst.BaseExpression) -> str | None:
    from rules.names import dotted

    return dotted(node)


@dataclass(frozen=True)
class Repository:
    """Every Python file's facts, and the paths of all files (for layout questions)."""

    facts: Mapping[str, FileFacts]
    files: frozenset[str]

    @cached_property
    def tests(self) -> tuple[FileFacts, ...]:
        return tuple(f for f in self.facts.values() if f.is_test)

    def in_package(self, path: str) -> bool:
        folder = path.rpartition("/")[0]
        return bool(folder) and f"{folder}/__init__.py" in self.files


@dataclass(frozen=True)
class Change:
    """A pull request's change: the lines it added or changed, per path, and the repository."""

    added: Mapping[str, frozenset[int]]
    repository: Repository


@dataclass
class RepositoryContext:
    """What a repository rule reports through; one per rule per run."""

    rule: object
    options: dict[str, object]
    read: Callable[[str], str]  # a file's text, for placing a report on its line
    reports: list[tuple[str, int, str, str]] = field(default_factory=list)

    def report(self, path: str, line: int, snippet: str, /, **values: object) -> None:
        self.reports.append((path, line, snippet, self.rule.message.format(**values)))


def definition_line(text: str, keyword: str, name: str) -> int | None:
    """The line of a module-level ``def name`` or ``class name`` in ``text``."""
    pattern = re.compile(rf"^(?:async\s+)?{keyword}\s+{re.escape(name)}\b", re.MULTILINE)
    match = pattern.search(text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def run_repository_rules(
    repository: Repository,
    rules: Iterable[object],
    config: object,
    read_text: Callable[[str], str],
    added: Mapping[str, frozenset[int]] | None = None,
) -> tuple[list[Finding], list[Skipped]]:
    """Run the repository rules (and, given a change, the change rules), then place and
    suppress their reports like any other finding."""
    from rules.engine import findings_from_lines

    read_text = functools.cache(read_text)
    by_path: dict[str, list[tuple[object, int, str, str]]] = {}
    problems: list[Skipped] = []
    for rule in rules:
        ctx = RepositoryContext(rule, config.options_for(rule), read_text)
        try:
            if rule.check_repository is not None:
                rule.check_repository(repository, ctx)
            if rule.check_change is not None and added is not None:
                rule.check_change(Change(added, repository), ctx)
        except Exception as exc:  # one broken rule must not hide the others
            problems.append(
                Skipped("(repository)", f"rule {rule.code} failed: {type(exc).__name__}: {exc}")
            )
            continue
        for path, line, snippet, message in ctx.reports:
            by_path.setdefault(path, []).append((rule, line, snippet, message))
    findings: list[Finding] = []
    for path, reports in sorted(by_path.items()):
        try:
            text = read_text(path)
        except (OSError, KeyError) as exc:
            problems.append(Skipped(path, f"could not be read: {exc}"))
            continue
        findings.extend(findings_from_lines(path, text, reports, config))
    return findings, problems
