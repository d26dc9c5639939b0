"""``--add-ignore``: a ``# debt: ignore[CODE]`` comment for each finding, as ruff's ``--add-noqa``.

The comment goes at the end of the finding's first line, else of its last (the engine honours
both). A line that already has ``# debt: ignore[...]`` gets the new codes merged into it. A
comment is only written where one can go without changing what the file means: not inside a
multi-line string, not after a backslash continuation, never in a notebook. For Python the
lines come from the tokenizer and the syntax tree is compared before and after; for YAML the
parse is compared, line by line.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import yaml

from bot.cli.files import Lines, split_ending
from rules.finding import Finding

# As the engine reads it (rules/engine/placement.py), codes in brackets.
_IGNORE = re.compile(r"#\s*debt:\s*ignore\[([^\]]*)\]", re.IGNORECASE)


@dataclass
class Plan:
    after: dict[str, bytes] = field(default_factory=dict)  # the files' new content
    lines: int = 0  # lines changed
    unplaced: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, why)


def plan(findings: Iterable[Finding], read: Callable[[str], bytes]) -> Plan:
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    result = Plan()
    for path, found in sorted(by_path.items()):
        try:
            data = read(path)
            lines = Lines.of(data)
        except (OSError, UnicodeDecodeError) as exc:
            result.unplaced.extend((f, f"cannot be read ({exc})") for f in found)
            continue
        place = _placer(path, lines)
        if place is None:
            result.unplaced.extend((f, "this kind of file takes no comment") for f in found)
            continue
        codes: dict[int, list[str]] = {}
        placed = []
        for finding in found:
            row = next((n for n in (finding.line, finding.end_line) if place.can_take(n)), None)
            if row is None:
                result.unplaced.append((finding, "no comment can go on its lines"))
                continue
            placed.append(finding)
            if finding.code not in codes.setdefault(row, []):
                codes[row].append(finding.code)
        changed = [row for row, new in codes.items() if place.comment(row, new)]
        if not place.keeps_meaning():
            why = "a comment would change what the file means"
            result.unplaced.extend((f, why) for f in placed)
            continue
        if changed:
            result.after[path] = place.lines.to_bytes()
            result.lines += len(changed)
    return result


def _placer(path: str, lines: Lines):
    name = path.rsplit("/", 1)[-1]
    if path.endswith(".py"):
        return _Python.of(lines)
    if path.endswith((".yaml", ".yml")):
        return _Yaml(lines)
    if name.startswith("requirements") and name.endswith(".txt"):
        return _Requirements(lines)
    return None


def _with_codes(content: str, codes: list[str], comment_at: int | None) -> str:
    """``content`` (a line without its ending) with ``codes`` in its ignore comment: merged
    into one that the comment (from ``comment_at``) already holds, else appended."""
    if comment_at is not None:
        match = _IGNORE.search(content, comment_at)
        if match is not None:
            have = [c.strip() for c in match.group(1).split(",") if c.strip()]
            merged = have + [c for c in codes if c.upper() not in {h.upper() for h in have}]
            return content[: match.start(1)] + ", ".join(merged) + content[match.end(1) :]
    return content.rstrip(" \t") + f"  # debt: ignore[{', '.join(codes)}]"


@dataclass
class _Python:
    lines: Lines
    rows: set[int]  # lines at whose end a comment can go
    comments: dict[int, int]  # line -> column where its comment starts
    tree: str | None

    @classmethod
    def of(cls, lines: Lines) -> _Python | None:
        text = lines.text
        try:
            tree = ast.dump(ast.parse(text))
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (SyntaxError, tokenize.TokenError, ValueError):
            return None  # not Python this interpreter reads: no way to check a comment
        # A line ends where code may be followed by a comment when the tokenizer ends a line
        # there; lines inside a string or continued with a backslash have no such token.
        rows = {t.start[0] for t in tokens if t.type in (tokenize.NEWLINE, tokenize.NL)}
        comments = {t.start[0]: t.start[1] for t in tokens if t.type == tokenize.COMMENT}
        return cls(lines, rows, comments, tree)

    def can_take(self, row: int) -> bool:
        return row in self.rows and row <= len(self.lines.lines)

    def comment(self, row: int, codes: list[str]) -> bool:
        content, ending = split_ending(self.lines.lines[row - 1])
        new = _with_codes(content, codes, self.comments.get(row))
        self.lines.lines[row - 1] = new + ending
        return new != content

    def keeps_meaning(self) -> bool:
        try:
            return ast.dump(ast.parse(self.lines.text)) == self.tree
        except SyntaxError:
            return False


@dataclass
class _Yaml:
    lines: Lines
    meaning: list[tuple] | None = None

    def __post_init__(self) -> None:
        self.meaning = _events(self.lines.text)

    def can_take(self, row: int) -> bool:
        """Whether a comment at the end of ``row`` leaves the document as it was: not so
        inside a block scalar or a quoted string over several lines."""
        if self.meaning is None or not 1 <= row <= len(self.lines.lines):
            return False
        old = self.lines.lines[row - 1]
        self.comment(row, ["DEBT0"])
        same = _events(self.lines.text) == self.meaning
        self.lines.lines[row - 1] = old
        return same

    def comment(self, row: int, codes: list[str]) -> bool:
        content, ending = split_ending(self.lines.lines[row - 1])
        hash_at = content.find("#")
        new = _with_codes(content, codes, hash_at if hash_at >= 0 else None)
        self.lines.lines[row - 1] = new + ending
        return new != content

    def keeps_meaning(self) -> bool:
        return _events(self.lines.text) == self.meaning


def _events(text: str) -> list[tuple] | None:
    """What a YAML text means, without where: its parse events and their values."""
    try:
        return [
            (type(e).__name__, getattr(e, "value", None), getattr(e, "tag", None))
            for e in yaml.parse(text, Loader=yaml.SafeLoader)
        ]
    except yaml.YAMLError:
        return None


@dataclass
class _Requirements:
    lines: Lines

    def can_take(self, row: int) -> bool:
        if not 1 <= row <= len(self.lines.lines):
            return False
        content, _ = split_ending(self.lines.lines[row - 1])
        return not content.rstrip().endswith("\\")  # a continued line: the comment would end it

    def comment(self, row: int, codes: list[str]) -> bool:
        content, ending = split_ending(self.lines.lines[row - 1])
        hash_at = re.search(r"(^|\s)#", content)
        new = _with_codes(content, codes, hash_at.start() if hash_at else None)
        self.lines.lines[row - 1] = new + ending
        return new != content

    def keeps_meaning(self) -> bool:
        return True
