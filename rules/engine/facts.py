"""What the repository rules know of each Python file: :class:`FileFacts`.

Some debt only shows across files: a public function no test mentions, an abstraction with one
implementation somewhere else. Each Python file contributes a small, JSON-friendly summary,
gathered during the engine's one walk and cacheable by content; the repository rules then read
only these summaries, never the trees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import libcst as cst

from rules.context import Context, is_test_path
from rules.names import dotted

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
        return is_test_path(self.path)

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

    def call(self, node: cst.Call, ctx: Context[Any]) -> None:
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
                    base for arg in statement.bases if (base := dotted(arg.value)) is not None
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
    name = dotted(node) or ""
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
