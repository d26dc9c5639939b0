"""The four output formats of the CLI: text for people, json, sarif and github annotations;
and the statistics table of ``--statistics``."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from rules.catalogue import all_rules, doc_section, rule_markdown
from rules.engine.scanner import ScanResult
from rules.finding import Finding
from rules.principles import PRINCIPLES
from rules.rule import Rule

FORMATS = ("text", "json", "sarif", "github")
_COLOURS = {"error": "31", "warning": "33", "info": "36", "path": "1", "dim": "2"}


STATISTICS_FORMATS = ("text", "json")
STDIN = "-"  # the path of code given on stdin without a file name


def display_path(path: str, root: Path) -> str:
    """A repository-relative path as seen from the current directory."""
    if path == STDIN:
        return path
    return Path(os.path.relpath(root / path)).as_posix()


def use_colour(stream: TextIO) -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("debtbot")
    except PackageNotFoundError:
        return "0+unknown"


def render(result: ScanResult, fmt: str, root: Path, colour: bool = False) -> str:
    return {"text": text, "json": as_json, "sarif": sarif, "github": github}[fmt](
        result, root, colour
    )


def _paint(value: str, style: str, colour: bool) -> str:
    return f"\x1b[{_COLOURS[style]}m{value}\x1b[0m" if colour else value


def text(result: ScanResult, root: Path, colour: bool = False) -> str:
    out: list[str] = []
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        shown = display_path(path, root)
        out.append(_paint(shown, "path", colour))
        for f in by_file[path]:
            severity = _paint(f.severity, f.severity, colour)
            out.append(f"  {shown}:{f.line}:{f.column}: {f.code} [{severity}] {f.message}")
        out.append("")
    for skipped in result.skipped:
        out.append(
            _paint(f"skipped {display_path(skipped.path, root)}: {skipped.reason}", "dim", colour)
        )
    if result.skipped:
        out.append("")
    if result.findings:
        counts = Counter(f.principle for f in result.findings)
        out.append("Debt by principle:")
        width = max(len(slug) for slug in counts)
        out.extend(f"  {slug:<{width}}  {counts[slug]}" for slug in PRINCIPLES if slug in counts)
        noun = "finding" if len(result.findings) == 1 else "findings"
        out.append(
            f"{len(result.findings)} {noun} in {_files(result.files)} ({result.lines} lines)."
        )
    else:
        out.append(f"No debt found in {_files(result.files)} ({result.lines} lines).")
    return "\n".join(out)


def as_json(result: ScanResult, root: Path, colour: bool = False) -> str:
    findings = [{**f.to_json(), "path": display_path(f.path, root)} for f in result.findings]
    skipped = [{"path": display_path(s.path, root), "reason": s.reason} for s in result.skipped]
    return json.dumps({"findings": findings, "skipped": skipped, "stats": result.stats()}, indent=2)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: ScanResult, root: Path, colour: bool = False) -> str:
    """GitHub Actions workflow commands, one annotation per finding."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for f in result.findings:
        props = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (
                ("file", display_path(f.path, root)),
                ("line", f.line),
                ("endLine", f.end_line),
                ("col", f.column),
                ("title", f"{f.code} {f.name} ({f.principle})"),
            )
        )
        lines.append(f"::{level[f.severity]} {props}::{_escape_data(f.message)}")
    return "\n".join(lines)


def _sarif_rule(rule: Rule) -> dict[str, object]:
    principle = PRINCIPLES[rule.principle]
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.name.replace("-", " ")},
        "fullDescription": {"text": doc_section(rule, "What it does")},
        "help": {"text": rule.doc, "markdown": rule_markdown(rule)},
        "defaultConfiguration": {"level": _sarif_level(rule.severity)},
        "properties": {
            "tags": ["maintainability", "ml-technical-debt", rule.principle],
            "principle": principle.title,
        },
    }


def _sarif_level(severity: str) -> str:
    return {"error": "error", "warning": "warning", "info": "note"}[severity]


def sarif(result: ScanResult, root: Path, colour: bool = False) -> str:
    """SARIF 2.1.0 as GitHub code scanning accepts it."""
    catalogue = all_rules()
    index = {rule.code: i for i, rule in enumerate(catalogue)}
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _sarif_level(f.severity),
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": display_path(f.path, root),
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {
                            "startLine": f.line,
                            "endLine": f.end_line,
                            "startColumn": f.column,
                        },
                    }
                }
            ],
            "partialFingerprints": {"debtbot/v1": f.fingerprint},
            "properties": {"principle": f.principle},
            **_sarif_fixes(f, root),
        }
        for f in result.findings
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "debtbot",
                        "version": tool_version(),
                        "rules": [_sarif_rule(rule) for rule in catalogue],
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "note",
                                "message": {"text": f"skipped: {s.reason}"},
                                "locations": [
                                    {
                                        "physicalLocation": {
                                            "artifactLocation": {"uri": display_path(s.path, root)}
                                        }
                                    }
                                ],
                            }
                            for s in result.skipped
                        ],
                    }
                ],
            }
        ],
    }
    return json.dumps(document, indent=2)


def _sarif_fixes(finding: Finding, root: Path) -> dict[str, object]:
    """The finding's replacement as a SARIF fix: its lines, whole, replaced by the text (a
    region without columns spans its lines up to, not including, the last newline)."""
    if finding.replacement is None:
        return {}
    change = {
        "artifactLocation": {"uri": display_path(finding.path, root), "uriBaseId": "%SRCROOT%"},
        "replacements": [
            {
                "deletedRegion": {"startLine": finding.line, "endLine": finding.end_line},
                "insertedContent": {"text": finding.replacement},
            }
        ],
    }
    description = f"Replace line {finding.line}" + (
        f"-{finding.end_line}" if finding.end_line > finding.line else ""
    )
    return {"fixes": [{"description": {"text": description}, "artifactChanges": [change]}]}


def statistics(findings: Iterable[Finding], fmt: str) -> str:
    """Findings counted per rule, most first, as ``ruff --statistics`` prints them; ``[*]``
    marks the rules whose findings ``--fix`` can fix (``[ ]`` the others, when any can)."""
    findings = list(findings)
    counts = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.replacement is not None)
    names = {f.code: f.name for f in findings}
    ordered = sorted(counts, key=lambda code: (-counts[code], code))
    if fmt == "json":
        rows = [
            {"code": c, "name": names[c], "count": counts[c], "fixable": fixable[c]}
            for c in ordered
        ]
        return json.dumps(rows, indent=2)
    if not ordered:
        return ""
    count_width = max(len(str(n)) for n in counts.values())
    code_width = max(len(code) for code in counts)
    marks = {c: ("[*] " if fixable[c] else "[ ] ") if fixable else "" for c in ordered}
    return "\n".join(
        f"{counts[c]:>{count_width}}\t{c:<{code_width}}\t{marks[c]}{names[c]}" for c in ordered
    )


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"
