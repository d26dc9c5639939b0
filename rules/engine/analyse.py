"""Analyse one file: read it, run every enabled rule in one shared walk, and collect findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import libcst as cst

from rules import names
from rules.context import Context, FileMemo, Report, Visitor
from rules.engine import provenance
from rules.engine.config import Config
from rules.engine.facts import FactsCollector, FileFacts
from rules.engine.placement import place
from rules.engine.source import read_source
from rules.engine.walk import call_visitor, node_class, walk
from rules.finding import Finding, Skipped
from rules.rule import Rule


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    lines: int = 0
    facts: FileFacts | None = None  # for repository rules, when asked for


def top_level_imports(module: cst.Module, aliases: dict[str, str]) -> None:
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
    collector: FactsCollector,
    path: str,
    module: cst.Module,
    text: str,
    origin: provenance.Header,
    problems: list[Skipped],
) -> FileFacts | None:
    try:
        return collector.facts(path, module, text, _aliases_of(module), origin)
    except Exception as exc:  # the repository rules lose one file, the run goes on
        problems.append(Skipped(path, f"repository facts failed: {type(exc).__name__}: {exc}"))
        return None


def _aliases_of(module: cst.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    top_level_imports(module, aliases)
    return aliases


def _nested_import(node: cst.Import | cst.ImportFrom, ctx: Context) -> None:
    names.add_import(ctx.aliases, node)
    ctx.memo.qualified.clear()  # names resolved before this import may now resolve otherwise


def analyse_source(
    path: str,
    data: bytes,
    config: Config,
    rules: Iterable[Rule] | None = None,
    files: Collection[str] = (),
    collect_facts: bool = False,
    owners: Collection[str] = (),
) -> FileResult:
    """Analyse one file's bytes. ``path`` is POSIX, relative to the repository root.

    ``collect_facts`` also summarises a Python file for the repository rules, in the same walk.
    ``owners`` are the copyright holders of the repository's own licence (see
    rules.engine.provenance): a file whose header names another is vendored.
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
    text, module, unreadable = read_source(path, data, config)
    if unreadable is not None:
        result.skipped.append(unreadable)
        return result
    result.lines = len(text.splitlines())
    # Code the repository only carries (vendored, generated, documentation written as
    # comments) silences the rules rules.engine.provenance.SILENCED says, for every rule.
    origin = provenance.header(path, text)
    file_kind = provenance.kind(path, origin, files, owners)
    active = [r for r in active if not provenance.silences(file_kind, r.code)]
    kinds = frozenset(kind for rule in config.rules() for kind in rule.facts)
    collector = FactsCollector(kinds=kinds) if collect_facts and module is not None else None
    try:
        reports, problems = run_rules(path, text, module, active, config, files, collector)
        result.findings = place(path, text, module, reports, config)
        if collector is not None:
            result.facts = _facts(collector, path, module, text, origin, problems)
    except RecursionError:
        problems = [Skipped(path, "too deeply nested to analyse")]
    result.skipped.extend(problems)
    return result


def run_rules(
    path: str,
    text: str,
    module: cst.Module | None,
    active: list[Rule],
    config: Config,
    files: Collection[str],
    collector: FactsCollector | None = None,
) -> tuple[list[Report], list[Skipped]]:
    """One walk of the tree for every rule's visitors, then each rule's ``check``."""
    aliases: dict[str, str] = {}
    ancestors: list[cst.CSTNode] = []
    reports: list[Report] = []
    skips: list[Skipped] = []
    failed: dict[str, str] = {}
    enter: dict[type, list[tuple[Visitor, Context]]] = defaultdict(list)
    leave: dict[type, list[tuple[Visitor, Context]]] = defaultdict(list)
    contexts = []
    memo = FileMemo()
    for rule in active:
        ctx = Context(
            rule, path, text, config.options_for(rule), files, module, aliases, ancestors,
            reports, skips, fresh_state(rule), memo,
        )  # fmt: skip
        contexts.append(ctx)
        for name, visitor in rule.visitors.items():
            kind, _, node_name = name.partition("_")
            table = enter if kind == "visit" else leave
            table[node_class(node_name)].append((visitor, ctx))
    if module is not None:
        top_level_imports(module, aliases)
        owner = contexts[0] if contexts else _facts_context(path, text, module, aliases)
        if collector is not None:
            enter[cst.Call].append((collector.call, owner))
        if enter or leave:
            for imports in (cst.Import, cst.ImportFrom):
                enter[imports].insert(0, (_nested_import, owner))
            walk(module, dict(enter), dict(leave), ancestors, failed)
    for ctx in contexts:
        if ctx.rule.check is not None:
            call_visitor(_run_check, module or cst.Module([]), ctx, failed)
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
    return Context(_FACTS_RULE, path, text, {}, (), module, aliases, [], [], [], None)


def fresh_state(rule: Rule) -> object:
    """A new instance of the rule's ``State`` for one file; None for a rule that keeps nothing."""
    return rule.state() if rule.state is not None else None


def _run_check(_module: cst.CSTNode, ctx: Context) -> None:
    ctx.rule.check(ctx)
