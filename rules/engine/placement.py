"""From what rules reported to findings: lines and columns, suppression comments, fingerprints."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import libcst as cst

from rules.context import Report
from rules.engine import positions
from rules.engine.config import Config
from rules.engine.walk import find_chains
from rules.finding import Finding, fingerprint
from rules.rule import Rule

_LINE_IGNORE = re.compile(r"#\s*debt:\s*ignore(?!-file)(?:\[([^\]]*)\])?", re.IGNORECASE)
_FILE_IGNORE = re.compile(
    r"^\s*#\s*debt:\s*ignore-file(?:\[([^\]]*)\])?\s*$", re.IGNORECASE | re.MULTILINE
)


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


def findings_from_lines(
    path: str, text: str, reports: Iterable[tuple[Rule, int, str, str]], config: Config
) -> list[Finding]:
    """Findings for line-based reports made outside the walk (repository rules)."""
    pending = [
        Report(rule, message, None, "", None, line=line, end_line=line, snippet=snippet)
        for rule, line, snippet, message in reports
    ]
    return place(path, text, None, pending, config)


def place(
    path: str, text: str, module: cst.Module | None, reports: list[Report], config: Config
) -> list[Finding]:
    if not reports:
        return []
    node_reports = [r for r in reports if r.node is not None]
    if node_reports and module is not None:
        unknown = [r.node for r in node_reports if r.chain is None]
        found = find_chains(module, unknown) if unknown else {}
        where = positions.spans(
            module, text, [(r.node, r.chain or found.get(id(r.node))) for r in node_reports]
        )
        for report in node_reports:
            span = where[id(report.node)]
            report.line, report.end_line, report.column = span.line, span.end_line, span.column
            if span.end_column == 1 and span.end_line > span.line:
                report.end_line -= 1  # a node ending with its newline ends on the line before
            report.snippet = snippet_of(module, report.node)

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


def snippet_of(module: cst.Module, node: cst.CSTNode) -> str:
    """The code that identifies a finding: a compound statement is known by its header line."""
    if isinstance(node, cst.FunctionDef | cst.ClassDef):
        return f"{type(node).__name__} {node.name.value}"
    code = module.code_for_node(node).strip()
    if isinstance(node, cst.BaseCompoundStatement):
        return code.split("\n", 1)[0]
    return code
