"""What a Python file offers other files, and what it takes from them: the names its module
binds at top level and the imports it runs. Read by the repository rules that check one file's
imports against another file's definitions.

The standard library's ``ast`` gives the line of every import for a small fraction of a libcst
parse; only statements are visited, never expressions, so the cost stays small.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

# Ways a module gets names no statement binds: then nobody can say a name is missing from it.
# (Reading ``sys.modules``, or ``exec`` inside a function with a namespace of its own, does not.)
_DYNAMIC = re.compile(
    r"\bglobals\(\)|\bvars\(\)|^exec\(|\bsys\.modules\[__name__\]|\bsys\.modules\[[^\]\n]+\]\s*="
    r"|\bsys\.modules\.(update|setdefault)\b|LazyModule|lazy_loader|\blazy\.attach",
    re.MULTILINE,
)
_DYNAMIC_WORDS = ("globals()", "vars()", "exec(", "sys.modules", "azy")
# Ways a file changes where its own imports are looked for.
_PATH_HACK = re.compile(r"\bsys\.path\b|\baddsitedir\b|\bPYTHONPATH\b|\bpkgutil\.extend_path\b")
_PATH_HACK_WORDS = ("sys.path", "addsitedir", "PYTHONPATH", "extend_path")
# A file that sets attributes on objects it is given, or edits sys.modules: it may add names to
# other modules (deprecation shims, legacy patches), under names its strings spell.
_PATCHER = re.compile(r"\bsetattr\(\s*(?!self\b|cls\b)|\bsys\.modules\[")
_PATCHER_WORDS = ("setattr(", "sys.modules[")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Context managers that expect their body to fail.
_EXPECTING_FAILURE = re.compile(r"(^|\.)(raises|assertRaises\w*|suppress)$")
# Names of checks that a module can be imported before importing it.
_AVAILABILITY = re.compile(r"available|installed|find_spec|importable|exists|^has_|^HAS_", re.I)
# Exceptions whose handler makes an import in its ``try`` optional.
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


@dataclass(frozen=True)
class Import:
    """One import a file runs: ``from <level dots><module> import <name>``, or
    ``import <module>`` (``name`` empty)."""

    line: int
    level: int
    module: str
    name: str = ""


@dataclass(frozen=True)
class ModuleFacts:
    # Names the module binds at top level, in any branch (conditional definitions count: we
    # only ever claim a name is missing), plus those ``global`` statements and ``__all__`` name.
    defines: frozenset[str] = frozenset()
    # Names may come from elsewhere: a star import, a module ``__getattr__``, ``globals()``,
    # ``sys.modules`` and the like, or a file ``ast`` cannot read.
    dynamic: bool = True
    # The imports the file runs unconditionally enough to fail: not those under
    # ``if TYPE_CHECKING:`` nor inside a ``try`` that catches ImportError.
    imports: tuple[Import, ...] = ()
    # The file edits ``sys.path`` (or the like): its imports may resolve anywhere.
    path_hack: bool = False
    # Names the file may add to other modules: attributes it assigns (``pkg.mod.NAME = ...``,
    # not ``self.x``) and, when it calls ``setattr`` or edits ``sys.modules``, the identifiers
    # its strings spell.
    injects: frozenset[str] = frozenset()


def module_facts(text: str) -> ModuleFacts:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ModuleFacts(path_hack=True)
    found = _Found("__all__" in text, ":=" in text)
    try:
        found.statements(tree.body, top=True, guarded=False)
        if _mentions(text, _PATCHER_WORDS) and _PATCHER.search(text):
            found.injects.update(_spelled(tree))
    except RecursionError:
        return ModuleFacts(path_hack=True)
    # The regular expressions run only on the few files that have one of their words.
    return ModuleFacts(
        frozenset(found.defines),
        found.dynamic or (_mentions(text, _DYNAMIC_WORDS) and bool(_DYNAMIC.search(text))),
        tuple(found.imports),
        _mentions(text, _PATH_HACK_WORDS) and bool(_PATH_HACK.search(text)),
        frozenset(found.injects),
    )


def _mentions(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


def _spelled(tree: ast.Module) -> set[str]:
    return {
        word
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 200
        for word in _IDENTIFIER.findall(node.value)
    }


@dataclass
class _Found:
    exports: bool  # the text names __all__
    walrus: bool  # the text has an assignment expression

    def __post_init__(self) -> None:
        self.defines: set[str] = set()
        self.imports: list[Import] = []
        self.injects: set[str] = set()
        self.dynamic = False

    def statements(self, body: list[ast.stmt], top: bool, guarded: bool) -> None:
        for statement in body:
            self.statement(statement, top, guarded)

    def statement(self, node: ast.stmt, top: bool, guarded: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if top:
                self.defines.add(node.name)
                self.dynamic |= node.name == "__getattr__"
            self.statements(node.body, False, guarded)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if top:
                    self.defines.add(alias.asname or alias.name.split(".", 1)[0])
                if not guarded:
                    self.imports.append(Import(node.lineno, 0, alias.name))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    self.dynamic |= top
                    continue
                if top:
                    self.defines.add(alias.asname or alias.name)
                if not guarded:
                    self.imports.append(
                        Import(node.lineno, node.level, node.module or "", alias.name)
                    )
        elif isinstance(node, ast.Global):
            self.defines.update(node.names)  # bound at module level when the function runs
        elif isinstance(node, ast.If):
            skipped = guarded or _type_checking(node.test) or _checks_availability(node.test)
            self.statements(node.body, top, skipped)
            self.statements(node.orelse, top, guarded)
        elif isinstance(node, ast.Try | getattr(ast, "TryStar", ast.Try)):
            optional = guarded or any(_catches_import_error(h.type) for h in node.handlers)
            self.statements(node.body, top, optional)
            for handler in node.handlers:
                if top and handler.name:
                    self.defines.add(handler.name)
                self.statements(handler.body, top, guarded)
            self.statements(node.orelse, top, guarded)
            self.statements(node.finalbody, top, guarded)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.With | ast.AsyncWith):
            items = getattr(node, "items", ())
            guarded = guarded or any(_expects_failure(item.context_expr) for item in items)
            if top:
                targets = [getattr(node, "target", None)]
                targets += [item.optional_vars for item in getattr(node, "items", ())]
                for target in targets:
                    self._bind(target)
            self.statements(node.body, top, guarded)
            self.statements(getattr(node, "orelse", []), top, guarded)
        elif isinstance(node, ast.Match):
            self.dynamic |= top  # capture patterns bind names; rare enough to give up on
            for case in node.cases:
                self.statements(case.body, top, guarded)
        else:
            self._attributes_set(node)
            if top:
                self._top_level_simple(node)

    def _attributes_set(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            return
        for target in targets:
            if isinstance(target, ast.Attribute):
                root = target.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if not (isinstance(root, ast.Name) and root.id in ("self", "cls")):
                    self.injects.add(target.attr)

    def _top_level_simple(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            self._bind(node.target)
        elif isinstance(node, getattr(ast, "TypeAlias", ())):
            self._bind(node.name)
        # __all__ = [...], __all__ += [...], __all__.extend([...]): what a module exports
        exports = self.exports and any(
            isinstance(n, ast.Name) and n.id == "__all__" for n in ast.walk(node)
        )
        if exports:
            self.defines.update(
                n.value
                for n in ast.walk(node)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
        elif self.walrus:
            for n in ast.walk(node):
                if isinstance(n, ast.NamedExpr):
                    self._bind(n.target)

    def _bind(self, target: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            self.defines.add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._bind(element)
        elif isinstance(target, ast.Starred):
            self._bind(target.value)


def _expects_failure(expression: ast.expr) -> bool:
    called = expression.func if isinstance(expression, ast.Call) else expression
    parts = []
    while isinstance(called, ast.Attribute):
        parts.append(called.attr)
        called = called.value
    if isinstance(called, ast.Name):
        parts.append(called.id)
    return bool(parts) and bool(_EXPECTING_FAILURE.search(".".join(reversed(parts))))


def _checks_availability(test: ast.expr) -> bool:
    """``if _module_available("pkg.demo"):``, ``if find_spec(...)``, ``if _TORCH_AVAILABLE:``:
    the import below runs only where the module is known to be there."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        else:
            continue
        if _AVAILABILITY.search(name):
            return True
    return False


def _type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def _catches_import_error(kind: ast.expr | None) -> bool:
    if kind is None:
        return True  # a bare except
    kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    for item in kinds:
        name = item.attr if isinstance(item, ast.Attribute) else getattr(item, "id", "")
        if name in _IMPORT_ERRORS:
            return True
    return False
