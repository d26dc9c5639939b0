"""``--fix`` and ``--diff``: the replacements some rules compute, applied to the files.

A finding's ``replacement`` replaces its lines ``line..end_line`` whole. Replacements that
overlap an earlier one in the same file wait for the next pass (``--fix`` runs the check again
after writing). A file whose fixed text would no longer parse is left as it is.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import libcst as cst
import yaml

from bot.cli.files import Lines, split_ending
from rules.finding import Finding


@dataclass
class Plan:
    """The new content of each file the replacements change, before anything is written."""

    before: dict[str, bytes] = field(default_factory=dict)
    after: dict[str, bytes] = field(default_factory=dict)
    applied: int = 0  # findings fixed
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def plan(findings: Iterable[Finding], read: Callable[[str], bytes]) -> Plan:
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.replacement is not None:
            by_path.setdefault(finding.path, []).append(finding)
    result = Plan()
    for path, fixable in sorted(by_path.items()):
        try:
            data = read(path)
            lines = Lines.of(data)
        except (OSError, UnicodeDecodeError) as exc:
            result.refused.append((path, f"cannot be read ({exc})"))
            continue
        applied = _apply(lines, fixable)
        fixed = lines.to_bytes()
        if not applied or fixed == data:
            continue
        if _parses(path, data) and not _parses(path, fixed):
            result.refused.append((path, "the fixed file would not parse; left as it is"))
            continue
        result.before[path], result.after[path] = data, fixed
        result.applied += applied
    return result


def _apply(lines: Lines, findings: list[Finding]) -> int:
    """Replace each finding's lines in place, bottom up so that line numbers hold."""
    chosen: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.line, f.end_line)):
        if chosen and finding.line <= chosen[-1].end_line:
            continue  # overlaps the previous replacement: the next pass sees it anew
        if 1 <= finding.line <= finding.end_line <= len(lines.lines):
            chosen.append(finding)
    for finding in reversed(chosen):
        _, ending = split_ending(lines.lines[finding.end_line - 1])
        assert finding.replacement is not None
        text = finding.replacement
        if ending and ending != "\n":
            text = text.replace("\n", ending)  # the file's own line endings
        lines.lines[finding.line - 1 : finding.end_line] = [text + ending]
    return len(chosen)


def _parses(path: str, data: bytes) -> bool:
    """Whether the file still reads as the engine read it (libcst for Python, whatever the
    version of this interpreter)."""
    try:
        text = data.decode("utf-8-sig")
        if path.endswith(".py"):
            cst.parse_module(text)
        elif path.endswith((".yaml", ".yml")):
            list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except (cst.ParserSyntaxError, ValueError, yaml.YAMLError):
        return False
    return True


def unified_diff(plan: Plan, shown: Callable[[str], str]) -> str:
    """The plan as a unified diff, one file after the other, as ``ruff --diff`` prints it."""
    out: list[str] = []
    for path in sorted(plan.after):
        before = Lines.of(plan.before[path]).lines
        after = Lines.of(plan.after[path]).lines
        name = shown(path)
        for line in difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"):
            ended = line.endswith(("\n", "\r"))
            out.append(line if ended else line + "\n\\ No newline at end of file\n")
    return "".join(out)
