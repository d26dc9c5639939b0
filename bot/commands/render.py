"""Commands people give the App in pull request comments, and what it answers: pure, no I/O.

``/debt-report`` (optionally ``full`` or a principle slug) asks for a report of the debt in a
pull request; ``/debt help`` lists the commands. The report is rendered here from findings the
caller gathered; ``render_report`` only decides how it reads and that GitHub will take it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.markdown import code_span, count, principle_order
from rules.catalogue import rules_by_code, title_of
from rules.finding import SEVERITIES, Finding, Skipped
from rules.principles import PRINCIPLES

# Hidden in the report comment, so that running the command again finds it and edits it.
REPORT_MARKER = "<!-- debtbot:report -->"
# GitHub refuses an issue comment body of 65,536 characters or more.
COMMENT_LIMIT = 65_535
# Changed files only (the default), or the whole repository at the head commit.
CHANGED, FULL = "changed", "full"
HELP, REPORT = "help", "report"
TOP_FILES = 10
SKIPPED_LISTED = 20
# A single list entry longer than this is cut: one huge message must not crowd out the rest.
ENTRY_LIMIT = 1_000

_COMMAND = re.compile(r"^/(debt-report|debt)(?:\s+(.*))?$", re.IGNORECASE)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(frozen=True)
class Command:
    """A command found in a comment.

    ``problem`` is set when the comment was meant for us but cannot be run as written (an
    unknown argument); the App answers with it instead of running anything.
    """

    name: str  # REPORT or HELP
    scope: str = CHANGED  # CHANGED, FULL or a principle slug
    problem: str | None = None

    @property
    def principle(self) -> str | None:
        return self.scope if self.scope in PRINCIPLES else None


def parse_command(body: str) -> Command | None:
    """The command a comment gives, or None when it gives none.

    The command must be the first line the commenter wrote: lines quoted from another comment
    (``>``) and fenced code blocks before it are passed over, since a reply quoting an earlier
    ``/debt-report``, or a code block showing one, is talk about the command, not a request.
    Whatever follows the command's line is free text.
    """
    line = _first_own_line(body)
    if line is None:
        return None
    match = _COMMAND.match(line)
    if match is None:
        return None
    verb = match.group(1).lower()
    arguments = (match.group(2) or "").lower().split()
    if verb == "debt":
        if arguments in ([], ["help"]):
            return Command(HELP)
        return Command(HELP, problem=f"`/debt {' '.join(arguments)}` is not a command I know.")
    if not arguments:
        return Command(REPORT)
    if len(arguments) > 1:
        return Command(REPORT, problem="`/debt-report` takes at most one word after it.")
    (argument,) = arguments
    if argument == "help":
        return Command(HELP)
    if argument == FULL or argument in PRINCIPLES:
        return Command(REPORT, scope=argument)
    return Command(REPORT, problem=f"`{argument}` is neither `full` nor a principle I know.")


def _first_own_line(body: str) -> str | None:
    fence: str | None = None
    for raw in body.splitlines():
        if fence is not None:
            # A fence closes with a line of at least as many of the same characters.
            if raw.strip().startswith(fence) and set(raw.strip()) == {fence[0]}:
                fence = None
            continue
        opening = _FENCE.match(raw)
        if opening is not None:
            fence = opening.group(1)
            continue
        line = raw.strip()
        if not line or line.startswith(">"):
            continue
        return line
    return None  # nothing but quotes and code (or an unclosed fence)


# --- answers other than the report ---------------------------------------------------------


def render_help(public_url: str, problem: str | None = None) -> str:
    """What the commands are; led by what was wrong when someone mistyped one."""
    base = public_url.rstrip("/")
    slugs = ", ".join(f"`{slug}`" for slug in PRINCIPLES)
    lines = [problem, ""] if problem else []
    lines += [
        "**debtbot** answers these commands, written as the first line of a comment on a pull "
        "request:",
        "",
        "- `/debt-report`: the debt in the files this pull request changes, what it adds and "
        "what it pays off compared with the base branch.",
        "- `/debt-report full`: the same for every Python file of the repository at the head "
        "commit.",
        "- `/debt-report PRINCIPLE`: only the findings of one principle, one of " + slugs + ".",
        "- `/debt help`: this list.",
        "",
        "Anyone who can push to the repository may ask for a report. Asking again updates the "
        f"same comment. The principles are explained at {base}/principles.",
    ]
    return "\n".join(lines)


def render_refusal(login: str) -> str:
    """The one answer to someone who may not run the commands here."""
    return (
        f"Sorry @{login}, only people who can push to this repository (write, maintain or admin "
        "access) can ask debtbot for a report. A maintainer can run `/debt-report` for you."
    )


# --- the report ----------------------------------------------------------------------------


class Listed(Protocol):
    """A finding as far as a list entry needs it (a Finding or a store.StoredFinding)."""

    code: str
    principle: str
    path: str
    line: int
    severity: str
    message: str


@dataclass(frozen=True)
class ReportInput:
    """What the report is about, as the caller found it.

    ``head`` and ``base`` are the findings in scope at the head commit and at the merge base
    (over the same files); ``left_out`` those the review did not comment on inline because of
    its cap; ``check_run_url`` where the full list lives, when known.
    """

    full_name: str
    number: int
    head_sha: str
    base_sha: str
    scope: str
    head: tuple[Finding, ...]
    base: tuple[Finding, ...]
    files: tuple[str, ...] = ()  # the analysed files (changed ones, or all for FULL)
    left_out: tuple[Listed, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    check_run_url: str | None = None


def added_and_paid_off(
    head: Iterable[Finding], base: Iterable[Finding]
) -> tuple[list[Finding], list[Finding]]:
    """Findings at head and not at the base, and the reverse, matched by fingerprint.

    Fingerprints leave line numbers out, so code that only moved is neither added nor paid off.
    """
    head, base = list(head), list(base)
    at_head = {f.fingerprint for f in head}
    at_base = {f.fingerprint for f in base}
    added = [f for f in head if f.fingerprint not in at_base]
    paid = [f for f in base if f.fingerprint not in at_head]
    return sorted(added, key=_place), sorted(paid, key=_place)


def render_report(
    report: ReportInput, public_url: str, updated_at: datetime, limit: int = COMMENT_LIMIT
) -> str:
    """The report comment, at most ``limit`` characters whatever the size of the pull request.

    The summary tables always fit; the lists of findings are cut where the limit would be
    passed, with a note saying how many were left out and where to find them all.
    """
    base = public_url.rstrip("/")
    added, paid = added_and_paid_off(report.head, report.base)
    head_text = [
        REPORT_MARKER,
        f"## debtbot report for #{report.number}",
        "",
        _scope_line(report),
        "",
        _totals_line(report.head, added, paid),
    ]
    if report.head or report.base:
        head_text += ["", *_principle_table(report.head, added, paid, base)]
    if report.head:
        head_text += ["", "### Files with the most findings", "", *_top_files(report.head)]
    if report.skipped:
        head_text += ["", "### Not analysed", "", *_skipped(report.skipped)]
    footer = [
        "",
        "---",
        f"<sub>Updated {updated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC for {report.head_sha[:12]}. "
        "Comment `/debt-report` again to refresh this report; `/debt help` lists the "
        "commands.</sub>",
    ]
    sections = [
        ("Added by this pull request", [_entry(f, base) for f in added]),
        ("Paid off by this pull request", [_entry(f, base) for f in paid]),
        (
            "Left out of the review",
            [_entry(f, base) for f in sorted(report.left_out, key=_place)],
        ),
        (
            "Every finding at the head commit",
            [_entry(f, base) for f in sorted(report.head, key=_place)],
        ),
    ]
    intros = {
        "Left out of the review": "Listed in the review's summary rather than commented on inline:",
    }
    return _fit_sections(head_text, sections, intros, footer, report, limit)


def _scope_line(report: ReportInput) -> str:
    where = {
        CHANGED: f"the {count(len(report.files), 'Python file')} this pull request changes",
        FULL: f"every Python file of the repository ({len(report.files)})",
    }.get(report.scope)
    if where is None:
        principle = PRINCIPLES.get(report.scope)
        title = principle.title if principle else report.scope
        where = f"the findings of *{title}* in the files this pull request changes"
    return (
        f"Looking at {where}, at {report.head_sha[:12]} compared with the merge base "
        f"{report.base_sha[:12]}."
    )


def _totals_line(head: Sequence[Finding], added: Sequence[Finding], paid: Sequence[Finding]) -> str:
    by_severity = Counter(f.severity for f in head)
    detail = ", ".join(
        count(by_severity[s], s, s if s == "info" else s + "s")
        for s in reversed(SEVERITIES)
        if by_severity[s]
    )
    total = f"**{count(len(head), 'finding')}**" + (f" ({detail})" if detail else "")
    return f"{total} · **{len(added)} added** · **{len(paid)} paid off**"


def _principle_table(
    head: Sequence[Finding], added: Sequence[Finding], paid: Sequence[Finding], base: str
) -> list[str]:
    now = Counter(f.principle for f in head)
    more = Counter(f.principle for f in added)
    less = Counter(f.principle for f in paid)
    rows = ["| Principle | Findings | Added | Paid off |", "| --- | ---: | ---: | ---: |"]
    for slug in sorted(set(now) | set(less), key=principle_order):
        principle = PRINCIPLES.get(slug)
        title = _cell(principle.title if principle else slug)
        link = f"[{title}]({base}/principles/{slug})" if base else title
        rows.append(f"| {link} | {now[slug]} | {more[slug]} | {less[slug]} |")
    return rows


def _skipped(skipped: Sequence[Skipped]) -> list[str]:
    lines = [_cut(f"- {code_span(s.path)}: {s.reason}") for s in skipped[:SKIPPED_LISTED]]
    if len(skipped) > SKIPPED_LISTED:
        lines.append(f"- and {len(skipped) - SKIPPED_LISTED} more")
    return lines


def _top_files(head: Sequence[Finding]) -> list[str]:
    by_file = Counter(f.path for f in head)
    ranked = sorted(by_file.items(), key=lambda item: (-item[1], item[0]))[:TOP_FILES]
    rows = ["| File | Findings |", "| --- | ---: |"]
    rows += [_cut(f"| {_cell(code_span(path))} | {total} |") for path, total in ranked]
    return rows


def _fit_sections(
    head_text: list[str],
    sections: Sequence[tuple[str, list[str]]],
    intros: dict[str, str],
    footer: list[str],
    report: ReportInput,
    limit: int,
) -> str:
    """Add the lists entry by entry until the next one would pass the limit; then say so."""
    fixed = "\n".join(head_text + footer)
    note_room = 600  # the truncation note, with a long check-run URL
    budget = limit - len(fixed) - note_room
    parts: list[str] = []
    hidden = 0
    for title, entries in sections:
        if not entries:
            continue
        heading = ["", f"### {title} ({len(entries)})", ""]
        if title in intros:
            heading[-1:] = ["", intros[title], ""]
        cost = len("\n".join(heading)) + 1
        if hidden or cost + len(entries[0]) + 1 > budget:
            hidden += len(entries)
            continue
        parts += heading
        budget -= cost
        for index, entry in enumerate(entries):
            if len(entry) + 1 > budget:
                hidden += len(entries) - index
                break
            parts.append(entry)
            budget -= len(entry) + 1
    if hidden:
        parts += ["", _truncation_note(hidden, report.check_run_url)]
    text = "\n".join(head_text + parts + footer)
    # The tables alone could only pass the limit with absurd paths; never send GitHub too much.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _truncation_note(hidden: int, check_run_url: str | None) -> str:
    where = (
        f"[The debtbot check run]({check_run_url})"
        if check_run_url
        else "The **debtbot** check run of the head commit"
    )
    return (
        f"> [!NOTE]\n> {count(hidden, 'more entry', 'more entries')} did not fit: GitHub takes "
        f"at most 65,536 characters in a comment. {where} lists every finding on changed lines."
    )


def _entry(finding: Listed, base: str) -> str:
    location = code_span(f"{finding.path}:{finding.line}")
    link = f"[{finding.code}]({base}/rules/{finding.code})" if base else finding.code
    message = " ".join(finding.message.split())
    return _cut(f"- {location} **{_title(finding)}** · {link}: {message}")


def _title(finding: Listed) -> str:
    """The rule's name as words ("Fixed decision threshold"), the code for an unknown rule."""
    rule = rules_by_code().get(finding.code)
    name = getattr(finding, "name", "") or (rule.name if rule else "")
    return title_of(name) if name else finding.code


def _cut(text: str) -> str:
    return text if len(text) <= ENTRY_LIMIT else text[: ENTRY_LIMIT - 1] + "…"


def _cell(text: str) -> str:
    # A pipe would end the table cell early.
    return text.replace("|", "\\|")


def _place(finding: Listed) -> tuple[str, int, str]:
    return (finding.path, finding.line, finding.code)
