"""Parse each file once, run every enabled rule in one shared walk, and collect findings.

libcst's own ``visit_batched`` rebuilds every node on the way back up (on yolov5 that walk costs
three quarters of the parse). Rules here are batched the same way, one walk dispatching to each
rule's ``visit_<Node>``/``leave_<Node>`` functions, but the walk reads dataclass fields directly
and skips whitespace and punctuation, which makes it about four times cheaper.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import libcst as cst

from rules import names, readers
from rules.engine import positions
from rules.engine.config import Config
from rules.engine.repository import FactsCollector, FileFacts
from rules.finding import Finding, Skipped, fingerprint
from rules.rule import Rule

_LINE_IGNORE = re.compile(r"#\s*debt:\s*ignore(?!-file)(?:\[([^\]]*)\])?", re.IGNORECASE)
_FILE_IGNORE = re.compile(
    r"^\s*#\s*debt:\s*ignore-file(?:\[([^\]]*)\])?\s*$", re.IGNORECASE | re.MULTILINE
)
_TRIVIA_FIELDS = frozenset(
    {
        "leading_lines", "lines_after_decorators", "header", "footer", "trailing_whitespace",
        "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace", "comma", "semicolon",
        "colon", "equal", "dot", "star", "operator", "newline", "whitespace", "asynchronous",
    }
)  # fmt: skip
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$"
)


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lines: int = 0
    facts: FileFacts | None = None  # for repository rules, when asked for


@dataclass
class _Report:
    rule: Rule
    message: str
    node: cst.CSTNode | None
    scope: str
    replacement: str | None
    # The node's ancestors from the module down, when known (or a guess): positions need them.
    chain: tuple[cst.CSTNode, ...] | None = None
    line: int = 0
    end_line: int = 0
    column: int = 1
    snippet: str = ""


@dataclass
class Context:
    """What a rule sees of the file it is looking at. One per rule per file."""

    rule: Rule
    path: str
    text: str
    options: dict[str, object]
    files: Collection[str]
    module: cst.Module | None
    aliases: dict[str, str]
    ancestors: list[cst.CSTNode]
    reports: list[_Report]
    skips: list[Skipped]
    # Free space for a rule to keep what it learns while walking this file.
    state: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def is_test(self) -> bool:
        return bool(_TEST_PATH.search(self.path))

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        return names.qualify(node, self.aliases)

    def call_name(self, node: cst.CSTNode) -> str | None:
        return names.call_name(node, self.aliases)

    def code(self, node: cst.CSTNode) -> str:
        assert self.module is not None
        return self.module.code_for_node(node)

    def indentation(self) -> str:
        """The indentation of the statement being visited, for whole-line replacements."""
        default = self.module.default_indent if self.module is not None else "    "
        return "".join(
            default if block.indent is None else block.indent
            for block in self.ancestors
            if isinstance(block, cst.IndentedBlock)
        )

    def parent(self, depth: int = 1) -> cst.CSTNode | None:
        """The ``depth``-th enclosing node of the node being visited."""
        return self.ancestors[-depth] if len(self.ancestors) >= depth else None

    def enclosing(self, *types: type[cst.CSTNode]) -> cst.CSTNode | None:
        for node in reversed(self.ancestors):
            if isinstance(node, types):
                return node
        return None

    def skip(self, reason: str) -> None:
        """Say why this file could not be fully read by the rule (shown under ``skipped``)."""
        self.skips.append(Skipped(self.path, reason))

    def yaml_documents(self) -> list:
        """The file's YAML documents as safe-loaded nodes; [] (and a skip) when unreadable."""
        if "yaml" not in self.state:
            try:
                self.state["yaml"] = readers.compose_yaml(self.text)
            except readers.UnreadableFile as exc:
                self.skip(str(exc))
                self.state["yaml"] = []
        return self.state["yaml"]

    def report(
        self, node: cst.CSTNode, *, replacement: str | None = None, **values: object
    ) -> None:
        """Report ``node``; ``values`` fill the rule's message template."""
        self.reports.append(
            _Report(
                self.rule,
                self.rule.message.format(**values),
                node,
                self._scope(),
                replacement,
                chain=self._chain(node),
            )
        )

    def _chain(self, node: cst.CSTNode) -> tuple[cst.CSTNode, ...] | None:
        """The ancestors of ``node``, when the walk makes them plain; else a guess."""
        if len(self.ancestors) > 1:
            return tuple(self.ancestors)
        if self.module is None:
            return None
        if any(s is node for s in self.module.body):
            return (self.module, node)
        return None  # reported after the walk left it: found again by _find_chains

    def report_line(
        self,
        line: int,
        *,
        end_line: int | None = None,
        column: int = 1,
        snippet: str | None = None,
        replacement: str | None = None,
        **values: object,
    ) -> None:
        """Report lines of the file's text, for rules that read text rather than a tree."""
        last = end_line or line
        if snippet is None:
            snippet = "\n".join(self.lines[line - 1 : last])
        self.reports.append(
            _Report(
                self.rule,
                self.rule.message.format(**values),
                None,
                "",
                replacement,
                line=line,
                end_line=last,
                column=column,
                snippet=snippet,
            )
        )

    def _scope(self) -> str:
        return ".".join(
            n.name.value for n in self.ancestors if isinstance(n, cst.FunctionDef | cst.ClassDef)
        )


Visitor = Callable[[Any, Context], None]


@cache
def _fields(node_type: type) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(node_type)
        if f.name not in _TRIVIA_FIELDS
        and not f.name.startswith("whitespace")
        and not f.name.endswith("_whitespace")
    )


@cache
def _node_type(name: str) -> type[cst.CSTNode]:
    node_type = getattr(cst, name, None)
    if not (isinstance(node_type, type) and issubclass(node_type, cst.CSTNode)):
        raise ValueError(f"{name!r} is not a libcst node type")
    return node_type


def _walk(
    module: cst.Module,
    enter: dict[type, list[tuple[Visitor, Context]]],
    leave: dict[type, list[tuple[Visitor, Context]]],
    ancestors: list[cst.CSTNode],
    failed: dict[str, str],
) -> None:
    # The hot loop of the engine: set look-ups instead of isinstance() against libcst's
    # abstract base classes, which is several times slower.
    field_names = _FIELD_NAMES
    node_types = _NODE_TYPES
    leaving = object()
    stack: list[Any] = [module]
    while stack:
        node = stack.pop()
        if node is leaving:
            node = ancestors.pop()
            handlers = leave.get(type(node))
            if handlers:
                _dispatch(handlers, node, failed)
            continue
        handlers = enter.get(type(node))
        if handlers:
            _dispatch(handlers, node, failed)
        node_type = type(node)
        ancestors.append(node)
        stack.append(leaving)
        names = field_names.get(node_type)
        if names is None:
            names = field_names[node_type] = _fields(node_type)
        children = []
        for name in names:
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                children.extend([item for item in value if type(item) in node_types])
            elif kind in node_types:
                children.append(value)
        children.reverse()
        stack.extend(children)


def _subclasses(base: type) -> set[type]:
    found = set()
    pending = [base]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_NODE_TYPES: frozenset[type] = frozenset(_subclasses(cst.CSTNode))


def _dispatch(
    handlers: list[tuple[Visitor, Context]], node: cst.CSTNode, failed: dict[str, str]
) -> None:
    for visitor, ctx in handlers:
        if failed and ctx.rule.code in failed:
            continue
        try:
            visitor(node, ctx)
        except Exception as exc:  # a bug in one rule must not hide the others' findings
            failed[ctx.rule.code] = f"{type(exc).__name__}: {exc}"


def _call(visitor: Visitor, node: cst.CSTNode, ctx: Context, failed: dict[str, str]) -> None:
    if ctx.rule.code in failed:
        return
    try:
        visitor(node, ctx)
    except Exception as exc:  # a bug in one rule must not hide the other rules' findings
        failed[ctx.rule.code] = f"{type(exc).__name__}: {exc}"


def _suppressed_codes(line: str) -> frozenset[str] | None:
    """Codes silenced on this line; an empty set silences all; None when nothing is."""
    match = _LINE_IGNORE.search(line)
    if match is None:
        return None
    return frozenset(c.strip().upper() for c in (match.group(1) or "").split(",") if c.strip())


def _file_suppressions(text: str) -> frozenset[str] | None:
    codes: set[str] = set()
    found = False
    for match in _FILE_IGNORE.finditer(text):
        found = True
        listed = {c.strip().upper() for c in (match.group(1) or "").split(",") if c.strip()}
        if not listed:
            return frozenset()
        codes |= listed
    return frozenset(codes) if found else None


def _silenced(codes: frozenset[str] | None, code: str) -> bool:
    return codes is not None and (not codes or code in codes)


def _decode(path: str, data: bytes, config: Config) -> tuple[str | None, Skipped | None]:
    if len(data) > config.max_file_size:
        return None, Skipped(path, f"larger than {config.max_file_size} bytes")
    if b"\x00" in data[:8192]:
        return None, Skipped(path, "binary file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Skipped(path, f"not UTF-8 text (byte {exc.start})")


_BRACKET = re.compile(r"[()\[\]{}]")
# CPython refuses more than 200 nested brackets; libcst's native parser crashes the whole
# process (not an exception) at around two thousand, so deeper files never reach it.
_MAX_NESTING = 200


def _too_deep(text: str) -> bool:
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "([{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    if deepest <= _MAX_NESTING:
        return False
    # Brackets inside strings can fool the count; Python's own parser settles it.
    try:
        compile(text, "<nesting check>", "exec", ast.PyCF_ONLY_AST)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return True
    return False


# libcst's parse time grows with the square of a chain of binary operators (4,000 terms take
# 3 s, 20,000 more than ten minutes); generated code can hold such chains. Files with many
# operators get a look with Python's own (linear) parser first.
_OPERATORS = (" + ", " - ", " * ", " / ", " | ", " & ", " and ", " or ")
_OPERATOR_SCREEN = 1_500
_MAX_CHAIN = 1_000


def _too_long_chain(text: str) -> bool:
    if sum(text.count(op) for op in _OPERATORS) < _OPERATOR_SCREEN:
        return False
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError):
        return True  # too deep even for CPython
    except (SyntaxError, ValueError):
        return False  # libcst will say what is wrong
    counted: set[int] = set()  # links of a chain already measured from its top
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and len(node.values) > _MAX_CHAIN:
            return True
        if not isinstance(node, ast.BinOp) or id(node) in counted:
            continue
        length = 0
        while isinstance(node, ast.BinOp):
            counted.add(id(node))
            node, length = node.left, length + 1
        if length > _MAX_CHAIN:
            return True
    return False


def _parse(path: str, text: str) -> tuple[cst.Module | None, Skipped | None]:
    if _too_deep(text):
        return None, Skipped(path, "too deeply nested to analyse")
    if _too_long_chain(text):
        return None, Skipped(path, f"an expression chains more than {_MAX_CHAIN} operators")
    try:
        return cst.parse_module(text), None
    except cst.ParserSyntaxError as exc:
        line, column = exc.raw_line, exc.raw_column
        located = re.match(r"parser error: error at (\d+):(\d+): ", exc.message)
        if located:  # the native parser puts the true location in the message only
            line, column = int(located.group(1)), int(located.group(2))
        detail = exc.message[located.end() :] if located else exc.message
        where = f"line {line}, column {column + 1}"
        return None, Skipped(path, f"syntax error at {where}: {detail}")
    except RecursionError:
        return None, Skipped(path, "too deeply nested to analyse")
    except Exception as exc:  # the native parser reports some limits with other exceptions
        return None, Skipped(path, f"could not be parsed: {type(exc).__name__}: {exc}")


def _top_level_imports(module: cst.Module, aliases: dict[str, str]) -> None:
    """Imports at module level, including those under ``if``/``try``, before any rule runs."""
    pending: list[cst.CSTNode] = list(module.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Import | cst.ImportFrom):
                    names.add_import(aliases, small)
        elif isinstance(statement, cst.If | cst.Try | cst.Else | cst.ExceptHandler | cst.Finally):
            pending.extend(statement.body.body)
            for extra in ("orelse", "handlers", "finalbody"):
                value = getattr(statement, extra, None)
                if isinstance(value, tuple):
                    pending.extend(value)
                elif value is not None:
                    pending.append(value)


def _facts(
    collector: FactsCollector, path: str, module: cst.Module, text: str, problems: list[Skipped]
) -> FileFacts | None:
    try:
        return collector.facts(path, module, text, _aliases_of(module))
    except Exception as exc:  # the repository rules lose one file, the run goes on
        problems.append(Skipped(path, f"repository facts failed: {type(exc).__name__}: {exc}"))
        return None


def _aliases_of(module: cst.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    _top_level_imports(module, aliases)
    return aliases


def _nested_import(node: cst.Import | cst.ImportFrom, ctx: Context) -> None:
    names.add_import(ctx.aliases, node)


def analyse_source(
    path: str,
    data: bytes,
    config: Config,
    rules: Iterable[Rule] | None = None,
    files: Collection[str] = (),
    collect_facts: bool = False,
) -> FileResult:
    """Analyse one file's bytes. ``path`` is POSIX, relative to the repository root.

    ``collect_facts`` also summarises a Python file for the repository rules, in the same walk.
    """
    result = FileResult(path)
    ignored = config.ignored_here(path)
    active = [
        r
        for r in (config.rules() if rules is None else rules)
        if r.per_file and r.applies_to(path) and r.code not in ignored
    ]
    collect_facts = collect_facts and path.endswith(".py")
    if not active and not collect_facts:
        return result
    if not collect_facts and not any(r.needs_text for r in active):
        data = b""
    text, module, unreadable = _read(path, data, config)
    if unreadable is not None:
        result.skipped.append(unreadable)
        return result
    result.lines = len(text.splitlines())
    collector = FactsCollector() if collect_facts and module is not None else None
    try:
        reports, problems = _run_rules(path, text, module, active, config, files, collector)
        result.findings = _findings(path, text, module, reports, config)
        if collector is not None:
            result.facts = _facts(collector, path, module, text, problems)
    except RecursionError:
        problems = [Skipped(path, "too deeply nested to analyse")]
    result.skipped.extend(problems)
    return result


def _read(path: str, data: bytes, config: Config) -> tuple[str, cst.Module | None, Skipped | None]:
    text, unreadable = _decode(path, data, config)
    if text is None or not path.endswith(".py"):
        return text or "", None, unreadable
    module, unparsable = _parse(path, text)
    return text, module, unparsable


def _run_rules(
    path: str,
    text: str,
    module: cst.Module | None,
    active: list[Rule],
    config: Config,
    files: Collection[str],
    collector: FactsCollector | None = None,
) -> tuple[list[_Report], list[Skipped]]:
    """One walk of the tree for every rule's visitors, then each rule's ``check``."""
    aliases: dict[str, str] = {}
    ancestors: list[cst.CSTNode] = []
    reports: list[_Report] = []
    skips: list[Skipped] = []
    failed: dict[str, str] = {}
    enter: dict[type, list[tuple[Visitor, Context]]] = defaultdict(list)
    leave: dict[type, list[tuple[Visitor, Context]]] = defaultdict(list)
    contexts = []
    for rule in active:
        ctx = Context(
            rule, path, text, config.options_for(rule), files, module, aliases, ancestors,
            reports, skips,
        )  # fmt: skip
        contexts.append(ctx)
        for name, visitor in rule.visitors.items():
            kind, _, node_name = name.partition("_")
            table = enter if kind == "visit" else leave
            table[_node_type(node_name)].append((visitor, ctx))
    if module is not None:
        _top_level_imports(module, aliases)
        owner = contexts[0] if contexts else _facts_context(path, text, module, aliases)
        if collector is not None:
            enter[cst.Call].append((collector.call, owner))
        if enter or leave:
            for node_type in (cst.Import, cst.ImportFrom):
                enter[node_type].insert(0, (_nested_import, owner))
            _walk(module, dict(enter), dict(leave), ancestors, failed)
    for ctx in contexts:
        if ctx.rule.check is not None:
            _call(_run_check, module or cst.Module([]), ctx, failed)
    problems = list(dict.fromkeys(skips))
    problems.extend(
        Skipped(path, f"rule {code} failed on this file: {why}")
        for code, why in sorted(failed.items())
    )
    return reports, problems


_FACTS_RULE = Rule(
    code="DEBT000", name="facts", principle="", severity="info", message="", valid=(), invalid=()
)


def _facts_context(path: str, text: str, module: cst.Module, aliases: dict[str, str]) -> Context:
    """A context for the engine's own visitors when no rule runs on the file."""
    return Context(_FACTS_RULE, path, text, {}, (), module, aliases, [], [], [])


def findings_from_lines(
    path: str, text: str, reports: Iterable[tuple[Rule, int, str, str]], config: Config
) -> list[Finding]:
    """Findings for line-based reports made outside the walk (repository rules)."""
    pending = [
        _Report(rule, message, None, "", None, line=line, end_line=line, snippet=snippet)
        for rule, line, snippet, message in reports
    ]
    return _findings(path, text, None, pending, config)


def _run_check(_module: cst.CSTNode, ctx: Context) -> None:
    ctx.rule.check(ctx)


def _findings(
    path: str, text: str, module: cst.Module | None, reports: list[_Report], config: Config
) -> list[Finding]:
    if not reports:
        return []
    node_reports = [r for r in reports if r.node is not None]
    if node_reports and module is not None:
        unknown = [r.node for r in node_reports if r.chain is None]
        found = _find_chains(module, unknown) if unknown else {}
        where = positions.spans(
            module, text, [(r.node, r.chain or found.get(id(r.node))) for r in node_reports]
        )
        for report in node_reports:
            span = where[id(report.node)]
            report.line, report.end_line, report.column = span.line, span.end_line, span.column
            if span.end_column == 1 and span.end_line > span.line:
                report.end_line -= 1  # a node ending with its newline ends on the line before
            report.snippet = _snippet(module, report.node)

    lines = text.splitlines()
    file_silenced = _file_suppressions(text)
    seen: Counter[tuple[str, str, str]] = Counter()
    findings = []
    for report in sorted(reports, key=lambda r: (r.line, r.column, r.rule.code)):
        code = report.rule.code
        if _silenced(file_silenced, code):
            continue
        candidates = {report.line, report.end_line}
        if any(
            _silenced(_suppressed_codes(lines[n - 1]), code)
            for n in candidates
            if 0 < n <= len(lines)
        ):
            continue
        key = (code, report.scope, " ".join(report.snippet.split()))
        occurrence = seen[key]
        seen[key] += 1
        findings.append(
            Finding(
                code=code,
                name=report.rule.name,
                principle=report.rule.principle,
                path=path,
                line=report.line,
                end_line=max(report.end_line, report.line),
                column=report.column,
                severity=config.severity.get(code, report.rule.severity),
                message=report.message,
                fingerprint=fingerprint(code, path, report.scope, report.snippet, occurrence),
                replacement=report.replacement,
            )
        )
    return findings


def _find_chains(
    module: cst.Module, nodes: Iterable[cst.CSTNode]
) -> dict[int, tuple[cst.CSTNode, ...]]:
    """The ancestors of nodes reported after the walk moved on, in one more cheap walk."""
    wanted = {id(n) for n in nodes}
    found: dict[int, tuple[cst.CSTNode, ...]] = {}
    pending: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(module, ())]
    while pending and len(found) < len(wanted):
        node, chain = pending.pop()
        if id(node) in wanted:
            found[id(node)] = chain
        inner = (*chain, node)
        for name in _fields(type(node)):
            value = getattr(node, name)
            if type(value) is tuple or type(value) is list:
                pending.extend((v, inner) for v in value if type(v) in _NODE_TYPES)
            elif type(value) in _NODE_TYPES:
                pending.append((value, inner))
    return found


def _snippet(module: cst.Module, node: cst.CSTNode) -> str:
    """The code that identifies a finding: a compound statement is known by its header line."""
    if isinstance(node, cst.FunctionDef | cst.ClassDef):
        return f"{type(node).__name__} {node.name.value}"
    code = module.code_for_node(node).strip()
    if isinstance(node, cst.BaseCompoundStatement):
        return code.split("\n", 1)[0]
    return code
