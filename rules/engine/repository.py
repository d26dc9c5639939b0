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
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_YAML_LITERAL = re.compile(r"""["']([^"'\n]{1,200}\.ya?ml)["']""")


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
    # Every identifier-like word of the file, code, strings and comments alike: "mentions" is
    # meant generously, and a regular expression over the text costs far less than a walk.
    names: frozenset[str] = frozenset()
    strings: frozenset[str] = frozenset()  # kept for older cached facts; no longer filled
    # Literal data locations (paths, table names) the file writes to and reads from.
    writes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    # (name bound in the file, top-level module it comes from) for every absolute import.
    imports: tuple[tuple[str, str], ...] = ()
    # File names of YAML files the code names in a string literal (``"configs/train.yaml"``).
    yaml_files: frozenset[str] = frozenset()
    # (class, field) for configuration defined in Python: fields of a module-level dataclass
    # named like a configuration. (Config dicts are left out: libraries take them whole.)
    config_fields: tuple[tuple[str, str], ...] = ()

    @property
    def is_test(self) -> bool:
        return bool(_TEST_PATH.search(self.path))

    def mentions(self, name: str) -> bool:
        return name in self.names or name in self.strings

    def to_json(self) -> str:
        data = asdict(self)
        for key in ("names", "strings", "writes", "reads", "yaml_files"):
            data[key] = sorted(data[key])
        data["imports"] = [list(pair) for pair in self.imports]
        data["config_fields"] = [list(pair) for pair in self.config_fields]
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
            writes=frozenset(data.get("writes", ())),
            reads=frozenset(data.get("reads", ())),
            imports=tuple((bound, root) for bound, root in data.get("imports", ())),
            yaml_files=frozenset(data.get("yaml_files", ())),
            config_fields=tuple((h, f) for h, f in data.get("config_fields", ())),
        )


_WRITE_METHODS = frozenset(
    {"to_csv", "to_parquet", "to_feather", "to_pickle", "to_sql", "to_json", "to_excel",
     "to_hdf", "write_csv", "write_parquet"}
)  # fmt: skip
_WRITE_FUNCTIONS = frozenset({"numpy.save", "numpy.savez", "joblib.dump"})
_READ_FUNCTIONS = frozenset(
    {"pandas.read_csv", "pandas.read_parquet", "pandas.read_feather", "pandas.read_pickle",
     "pandas.read_sql_table", "pandas.read_json", "pandas.read_excel", "pandas.read_hdf",
     "numpy.load", "polars.read_csv", "polars.read_parquet", "joblib.load"}
)  # fmt: skip


@dataclass
class FactsCollector:
    """Fed by the engine's walk; turned into :class:`FileFacts` at the end of the file."""

    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)

    def call(self, node: cst.Call, ctx: object) -> None:
        location = _first_literal(node)
        if location is None:
            return
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else None
        name = ctx.call_name(node)
        if method in _WRITE_METHODS or name in _WRITE_FUNCTIONS:
            self.writes.add(location)
        elif name in _READ_FUNCTIONS:
            self.reads.add(location)

    def facts(
        self, path: str, module: cst.Module, text: str, aliases: Mapping[str, str]
    ) -> FileFacts:
        functions, classes = [], []
        for statement in module.body:
            if isinstance(statement, cst.FunctionDef):
                functions.append(FunctionFact(statement.name.value, bool(statement.decorators)))
            elif isinstance(statement, cst.ClassDef):
                bases = tuple(
                    base for arg in statement.bases if (base := _dotted(arg.value)) is not None
                )
                classes.append(ClassFact(statement.name.value, bases))
        return FileFacts(
            path,
            tuple(functions),
            tuple(classes),
            frozenset(_WORD.findall(text)),
            frozenset(),
            frozenset(self.writes),
            frozenset(self.reads),
            tuple(
                sorted(
                    (bound, target.split(".", 1)[0])
                    for bound, target in aliases.items()
                    if target and not target.startswith(".")
                )
            ),
            frozenset(m.rsplit("/", 1)[-1] for m in _YAML_LITERAL.findall(text)),
            tuple(_config_fields(module)),
        )


_CONFIG_HOLDER = re.compile(r"(config|settings|params|options|hparams|hyperparameters)$", re.I)


def _config_fields(module: cst.Module) -> list[tuple[str, str]]:
    """Fields of module-level dataclasses named like a configuration."""
    fields = []
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and _CONFIG_HOLDER.search(statement.name.value):
            if not any(_is_dataclass(d.decorator) for d in statement.decorators):
                continue
            for line in statement.body.body:
                small = line.body[0] if isinstance(line, cst.SimpleStatementLine) else None
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    fields.append((statement.name.value, small.target.value))
    return fields


def _is_dataclass(decorator: cst.BaseExpression) -> bool:
    node = decorator.func if isinstance(decorator, cst.Call) else decorator
    name = _dotted(node) or ""
    return name.rsplit(".", 1)[-1] == "dataclass"


def _first_literal(call: cst.Call) -> str | None:
    """The location a read or write call names as a plain string, if it does."""
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value in ("path", "path_or_buf", "name", "file"):
            value = arg.value
            if isinstance(value, cst.SimpleString):
                text = value.evaluated_value
                return text if isinstance(text, str) and len(text) >= 3 else None
            if arg.keyword is None:
                return None  # the first positional argument is not a literal
    return None


def _dotted(node: cst.BaseExpression) -> str | None:
    from rules.names import dotted

    return dotted(node)


@dataclass(frozen=True)
class Repository:
    """Every Python file's facts, and the paths of all files (for layout questions)."""

    facts: Mapping[str, FileFacts]
    files: frozenset[str]

    def importers(self, module: str) -> list[FileFacts]:
        """Files that import the top-level ``module``."""
        return [f for f in self.facts.values() if any(root == module for _, root in f.imports)]

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
    from rules.engine.analyse import findings_from_lines

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
