"""What the repository rules know of each Python file: :class:`FileFacts`.

Some debt only shows across files: a public function no test mentions, an abstraction with one
implementation somewhere else. Each Python file contributes a small, JSON-friendly summary,
gathered during the engine's one walk and cacheable by content; the repository rules then read
only these summaries, never the trees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import libcst as cst

from rules.context import Context, is_test_path
from rules.engine import clones, literals, provenance
from rules.engine.modules import Import, ModuleFacts, module_facts
from rules.engine.walk import child_nodes
from rules.ml import data_calls
from rules.ml.estimators import names_a_model
from rules.names import call_name, dotted, string_value

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BOUND_AS = re.compile(r"\bas\s+([A-Za-z_][A-Za-z0-9_]*)")  # with ... as name (and imports)
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
    # Data locations the file writes to and reads from, when named with literals: normalised
    # paths (``data/train.csv``) and tables (``table:events``); see rules/ml/data_calls.py.
    writes: frozenset[str] = frozenset()
    reads: frozenset[str] = frozenset()
    # (name bound in the file, top-level module it comes from) for every absolute import.
    imports: tuple[tuple[str, str], ...] = ()
    # YAML files the code names in a string literal, as written without a leading ``./``
    # (``configs/train.yaml``, ``{name}/config.yaml`` from an f-string).
    yaml_files: frozenset[str] = frozenset()
    # (class, field) for configuration defined in Python: fields of a module-level dataclass
    # named like a configuration. (Config dicts are left out: libraries take them whole.)
    config_fields: tuple[tuple[str, str], ...] = ()
    # Winnowed fingerprints of the file's normalised tokens, for finding copied code (see
    # rules/engine/clones.py): hashes and lines, never the code. Test files have none.
    fingerprints: tuple[clones.Fingerprint, ...] = ()
    # What the module binds at top level and the imports the file runs, with their lines (see
    # rules/engine/modules.py). The default knows nothing: every name may be there.
    module: ModuleFacts = field(default_factory=ModuleFacts)
    # Lists, tuples, sets and dicts of constants bound to a name, as hashes of their items (see
    # rules/engine/literals.py). Test files have none.
    collections: tuple[literals.LiteralCollection, ...] = ()
    # Where the file comes from, as its path and first lines tell (see
    # rules/engine/provenance.py): vendored, generated, documentation written as comments.
    origin: provenance.Header = field(default_factory=provenance.Header)

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
        data["fingerprints"] = clones.pack(self.fingerprints)
        data["collections"] = literals.pack(self.collections)
        data["module"] = {
            "defines": sorted(self.module.defines),
            "dynamic": self.module.dynamic,
            "imports": [[i.line, i.level, i.module, i.name] for i in self.module.imports],
            "path_hack": self.module.path_hack,
            "injects": sorted(self.module.injects),
        }
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
            imports=tuple(map(tuple, data.get("imports", ()))),
            yaml_files=frozenset(data.get("yaml_files", ())),
            config_fields=tuple(map(tuple, data.get("config_fields", ()))),
            fingerprints=clones.unpack(data.get("fingerprints", "")),
            module=_module_from_json(data.get("module")),
            collections=literals.unpack(data.get("collections", [])),
            origin=provenance.Header(**data.get("origin", {})),
        )


@dataclass
class FactsCollector:
    """Fed by the engine's walk; turned into :class:`FileFacts` at the end of the file."""

    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    # Reads and writes through a name that a ``with open(...) as name`` may have bound: found
    # at the end of the file, by a walk of our own (the engine's ancestors are not kept for
    # every file, and the facts of a file must not depend on which rules ran on it).
    through_handles: dict[int, tuple[data_calls.Access, str]] = field(default_factory=dict)
    # The costly kinds of facts some enabled rule reads (Rule.facts); the others stay empty.
    kinds: frozenset[str] = frozenset()

    def call(self, node: cst.Call, ctx: Context[Any]) -> None:
        found = data_calls.access(node, ctx)
        if found is None or not data_calls.moves_data(found):
            return
        if found.kind == "write" and found.what == "object" and any(map(names_a_model, found.data)):
            return  # a model pickled or saved: what a training job loads to resume, not data
        locations = _literal_locations(found, ctx, ())
        handle = _handle_name(found.location, ctx)
        if not locations and handle is not None:
            self.through_handles[id(node)] = (found, handle)
            return
        self._add(found, locations)

    def _add(self, found: data_calls.Access, locations: list[str]) -> None:
        chosen = self.writes if found.kind == "write" else self.reads
        chosen.update(location for location in locations if len(location) >= 3)

    def _resolve_handles(self, module: cst.Module, aliases: Mapping[str, str]) -> None:
        imports = _Imports(dict(aliases))
        pending: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
        while pending:
            node, enclosing = pending.pop()
            if id(node) in self.through_handles:
                found = self.through_handles[id(node)][0]
                self._add(found, _literal_locations(found, imports, enclosing))
            inner = (*enclosing, node) if isinstance(node, cst.With) else enclosing
            pending.extend((child, inner) for child in child_nodes(node))

    def facts(
        self,
        path: str,
        module: cst.Module,
        text: str,
        aliases: Mapping[str, str],
        origin: provenance.Header | None = None,
    ) -> FileFacts:
        if self.through_handles:
            bound = set(_BOUND_AS.findall(text))
            if any(name in bound for _, name in self.through_handles.values()):
                self._resolve_handles(module, aliases)
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
            frozenset(m.removeprefix("./") for m in _YAML_LITERAL.findall(text)),
            tuple(_config_fields(module)),
            clones.fingerprints(text)
            if "fingerprints" in self.kinds and not is_test_path(path)
            else (),
            module_facts(text) if "modules" in self.kinds else ModuleFacts(),
            literals.collections(text)
            if "collections" in self.kinds and not is_test_path(path)
            else (),
            origin if origin is not None else provenance.header(path, text),
        )


def _module_from_json(data: Mapping[str, Any] | None) -> ModuleFacts:
    if data is None:
        return ModuleFacts()
    return ModuleFacts(
        frozenset(data["defines"]),
        bool(data["dynamic"]),
        tuple(Import(*item) for item in data["imports"]),
        bool(data["path_hack"]),
        frozenset(data["injects"]),
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


def _handle_name(node: cst.BaseExpression | None, names: data_calls.Names) -> str | None:
    """The name of a file object a call is given: ``f``, or the ``f`` of ``csv.writer(f)``."""
    if isinstance(node, cst.Name):
        return node.value
    wrapper = isinstance(node, cst.Call) and names.call_name(node) in data_calls.HANDLE_WRAPPERS
    if wrapper and isinstance(node, cst.Call) and node.args:
        return _handle_name(node.args[0].value, names)
    return None


@dataclass
class _Imports:
    """Names resolved through a file's imports, for the table of data calls."""

    aliases: dict[str, str]

    def call_name(self, node: cst.CSTNode) -> str | None:
        return call_name(node, self.aliases)


def _literal_locations(
    found: data_calls.Access, names: data_calls.Names, enclosing: Sequence[cst.CSTNode]
) -> list[str]:
    """The locations a read or write names with literals: a path (``"data/x.csv"``,
    ``Path("data") / "x.csv"``, or the file of an ``open("...")`` it was given) or a table
    (``table:<name>``)."""
    try:
        return _literals(found, names, enclosing)
    except SyntaxError:  # a literal Python 3 cannot read (Python 2's "C:\Users"): no location
        return []


def _literals(
    found: data_calls.Access, names: data_calls.Names, enclosing: Sequence[cst.CSTNode]
) -> list[str]:
    target = found.location
    if target is None:
        return []
    text = string_value(target)
    if found.where == "query":
        if text is None:
            return []
        if found.kind == "read":
            return [f"table:{table}" for table in data_calls.tables_read(text)]
        table = data_calls.table_written(text)
        return [f"table:{table}"] if table else []
    if found.where == "table":
        return [f"table:{text.lower()}"] if text else []
    location = data_calls.literal_location(target, names)
    if location is None:
        handle = data_calls.opened_by(target, names, enclosing)
        if handle is None or handle.location is None:
            return []
        if found.kind == "write" and not handle.writes:
            return []
        location = data_calls.literal_location(handle.location, names)
    return [location] if location is not None else []
