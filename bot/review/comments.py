"""What the App says on a pull request, as text: pure functions, no I/O.

Inline comments, the review's summary, the reply when a finding goes away and the check run are
all rendered here from findings, so that the pipeline in review.py only decides *when* to say
something and github.py only decides *how* to send it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain import Annotation, CheckRunOutput, InlineComment
from bot.markdown import code_block, code_span, count, principle_order
from rules.catalogue import doc_section, rules_by_code, title_of
from rules.finding import SEVERITIES, Finding, Skipped
from rules.principles import PRINCIPLES
from rules.rule import Rule

_FINGERPRINT = re.compile(r"<!-- debtbot:fingerprint=([0-9A-Za-z]+) -->")
_RESOLVED = re.compile(r"<!-- debtbot:resolved=([0-9A-Za-z]+) -->")
_CODE_BLOCK = re.compile(r"^\.\. code-block::\s*(\S*)\s*$")
_ANNOTATION_LEVELS = {"error": "failure", "warning": "warning", "info": "notice"}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"(])")
# An inline comment's "why" stops after the sentence that reaches this many characters.
WHY_LENGTH = 320
# The [tool.debtbot.review] fail-on value that turns the gate off (the default).
NEVER_FAIL = "never"
# Past this many entries the review body points to the check run instead of listing more.
LISTED_IN_BODY = 50
# Lines of the other findings of a rule in a file that an inline comment names.
ALSO_LISTED = 10


@dataclass(frozen=True)
class ReviewPlan:
    """What one review says: one inline comment per rule and file, the other findings of that
    rule in that file named in the same comment (``riders``, by the commented finding's
    fingerprint), and new findings only listed in the review's body."""

    inline: tuple[Finding, ...]
    listed: tuple[Finding, ...]
    cap: int
    riders: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """Nothing new to say: then no review is posted at all."""
        return not self.inline and not self.listed

    @property
    def said(self) -> tuple[Finding, ...]:
        """Every finding this review tells about, inline, in a comment or in its body."""
        riding = tuple(f for group in self.riders.values() for f in group)
        return (*self.inline, *riding, *self.listed)


@dataclass(frozen=True)
class Placement:
    """Where an inline comment goes on the RIGHT side of GitHub's diff."""

    line: int
    start_line: int | None
    # The comment covers exactly the finding's lines, so a suggestion may replace them.
    exact: bool


# --- one inline comment --------------------------------------------------------------------


def comment_body(
    finding: Finding,
    public_url: str,
    *,
    suggestion: bool = True,
    also: Sequence[Finding] = (),
) -> str:
    """The Markdown of an inline comment: what, why, what instead, links, how to silence it.

    ``suggestion=False`` leaves out the GitHub suggestion block, for comments that do not cover
    exactly the finding's lines (applying it would replace the wrong ones). ``also``: the other
    findings of the same rule in the same file, named here rather than in comments of their own.
    """
    rule = rules_by_code().get(finding.code)
    base = public_url.rstrip("/")
    parts = [_headline(finding, rule), finding.message]
    if also:
        parts.append(_also(also))
    if rule is not None:
        why = _short(_first_paragraph(doc_section(rule, "Why is this bad?")))
        if why:
            parts.append(why)
        parts.extend(_instead(rule, finding, suggestion))
    parts.append(
        f"[Why this is debt]({base}/principles/{finding.principle}) · "
        f"[Rule {finding.code}]({base}/rules/{finding.code}) · "
        f"silence it with `# debt: ignore[{finding.code}]` on the line"
    )
    return "\n\n".join(parts) + "\n" + fingerprint_marker(finding.fingerprint)


def _also(others: Sequence[Finding]) -> str:
    lines = [str(n) for n in sorted({f.line for f in others})]
    if len(lines) > ALSO_LISTED:
        lines = [*lines[:ALSO_LISTED], f"{len(lines) - ALSO_LISTED} more"]
    shown = lines[0] if len(lines) == 1 else ", ".join(lines[:-1]) + " and " + lines[-1]
    where = "line" if len(lines) == 1 else "lines"
    return f"The same in this file on {where} {shown}."


def fingerprint_marker(fingerprint: str) -> str:
    # Hidden in the rendered comment; lets a later run recognise its own comments on GitHub.
    return f"<!-- debtbot:fingerprint={fingerprint} -->"


def fingerprint_of(comment_body: str) -> str | None:
    """The fingerprint a comment of ours carries, or None for any other comment."""
    match = _FINGERPRINT.search(comment_body)
    return match.group(1) if match else None


def resolved_fingerprint_of(comment_body: str) -> str | None:
    """The fingerprint a resolved-reply of ours names, or None for any other comment."""
    match = _RESOLVED.search(comment_body)
    return match.group(1) if match else None


def resolved_reply(fingerprint: str, sha: str) -> str:
    """The one reply posted in a thread when its finding is no longer reported."""
    return (
        f"Resolved in {sha[:12]}: this is no longer reported. Thank you!\n"
        f"<!-- debtbot:resolved={fingerprint} -->"
    )


def placement(finding: Finding, hunks: Mapping[str, Sequence[range]]) -> Placement | None:
    """Where GitHub will take a comment on ``finding``, or None when no line of it is in the diff.

    A comment may cover several lines only inside one hunk; a finding reaching past its hunk is
    cut to the part inside it.
    """
    span = range(finding.line, max(finding.line, finding.end_line) + 1)
    for hunk in hunks.get(finding.path, ()):
        first, last = max(span.start, hunk.start), min(span.stop, hunk.stop) - 1
        if first > last:
            continue
        exact = (first, last) == (span.start, span.stop - 1)
        return Placement(line=last, start_line=first if first < last else None, exact=exact)
    return None


def inline_comment(
    finding: Finding,
    hunks: Mapping[str, Sequence[range]],
    public_url: str,
    also: Sequence[Finding] = (),
) -> InlineComment:
    place = placement(finding, hunks)
    if place is None:
        raise ValueError(f"{finding.path}:{finding.line} is outside the diff")
    return InlineComment(
        path=finding.path,
        line=place.line,
        start_line=place.start_line,
        body=comment_body(finding, public_url, suggestion=place.exact, also=also),
        fingerprint=finding.fingerprint,
    )


# --- the review ----------------------------------------------------------------------------


def plan_review(
    findings: Iterable[Finding],
    already_said: Collection[str],
    cap: int,
    hunks: Mapping[str, Sequence[range]] | None = None,
    commented: Collection[tuple[str, str]] = (),
) -> ReviewPlan:
    """One inline comment per rule and file for the new findings (most severe first, at most
    ``cap`` comments), naming the rule's other findings in that file.

    ``already_said``: fingerprints commented on, or listed, by an earlier review of this pull
    request; they are not repeated. ``commented``: (rule, file) pairs that already have an open
    comment of ours; their new findings are listed in the body, never a second comment. With
    ``hunks``, a finding no comment can be placed on is listed in the body instead.
    """
    if cap < 0:
        raise ValueError(f"the inline comment cap must be 0 or more, not {cap}")
    seen = set(already_said)
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in sorted(findings, key=_importance):
        if finding.fingerprint not in seen:
            seen.add(finding.fingerprint)
            groups.setdefault((finding.code, finding.path), []).append(finding)
    inline: list[Finding] = []
    riders: dict[str, tuple[Finding, ...]] = {}
    listed: list[Finding] = []
    for place, members in groups.items():
        placeable = [f for f in members if hunks is None or placement(f, hunks) is not None]
        if place in commented or not placeable or len(inline) >= cap:
            listed.extend(members)
            continue
        leader = placeable[0]
        inline.append(leader)
        riders[leader.fingerprint] = tuple(f for f in members if f is not leader)
    listed.sort(key=_importance)
    return ReviewPlan(inline=tuple(inline), listed=tuple(listed), cap=cap, riders=riders)


def inline_comments(
    plan: ReviewPlan, hunks: Mapping[str, Sequence[range]], public_url: str
) -> tuple[InlineComment, ...]:
    return tuple(
        inline_comment(f, hunks, public_url, plan.riders.get(f.fingerprint, ()))
        for f in plan.inline
    )


def review_body(
    plan: ReviewPlan, head_sha: str, public_url: str, skipped: Sequence[Skipped] = ()
) -> str:
    """The review's summary: how much is new, the new findings not commented inline, and the
    changed files that could not be analysed (``skipped``), so that none passes in silence."""
    total = len(plan.said)
    lines = [
        f"**debtbot** looked at {head_sha[:12]}: {count(total, 'new finding')} on changed lines."
    ]
    if plan.inline:
        in_comments = total - len(plan.listed)
        comment_count = count(len(plan.inline), "comment")
        if in_comments == len(plan.inline):
            lines.append(f"{count(in_comments, 'is', 'are')} commented on in this review.")
        else:
            lines.append(f"{in_comments} are commented on in this review, in {comment_count}.")
    if plan.listed:
        lines += ["", _why_listed(plan), ""]
        base = public_url.rstrip("/")
        lines += [_summary_line(f, base) for f in plan.listed[:LISTED_IN_BODY]]
        if len(plan.listed) > LISTED_IN_BODY:
            hidden = len(plan.listed) - LISTED_IN_BODY
            lines.append(f"- … and {hidden} more: the **debtbot** check run lists every finding.")
    if skipped:
        lines += ["", f"{count(len(skipped), 'changed file')} could not be analysed:"]
        lines += [f"- {code_span(s.path)}: {s.reason}" for s in skipped[:LISTED_IN_BODY]]
        if len(skipped) > LISTED_IN_BODY:
            lines.append(f"- … and {len(skipped) - LISTED_IN_BODY} more (see the check run).")
    return "\n".join(lines)


def _why_listed(plan: ReviewPlan) -> str:
    if plan.inline and len(plan.inline) == plan.cap:
        return f"Not commented inline, to keep this review readable ({plan.cap} at most):"
    if plan.cap == 0:
        return "Inline comments are turned off for this repository:"
    return "Not commented inline (GitHub shows no diff line for them):"


def _summary_line(finding: Finding, base: str) -> str:
    location = code_span(f"{finding.path}:{finding.line}")
    return (
        f"- {location} **{_title(finding)}** · [{finding.code}]({base}/rules/{finding.code}): "
        f"{finding.message}"
    )


# --- the check run -------------------------------------------------------------------------


def check_run_output(
    findings: Sequence[Finding],
    fail_on: str | None = None,
    public_url: str = "",
    skipped: Sequence[Skipped] = (),
) -> CheckRunOutput:
    """Every finding on changed lines as an annotation, a summary per principle, and the gate.

    The conclusion is ``success`` with nothing found, ``neutral`` with findings, and
    ``failure`` only when the repository set ``fail-on`` and a finding is at least that severe.
    ``fail_on`` is a severity, or ``"never"`` / None for no gate.
    """
    fail_on = None if fail_on == NEVER_FAIL else fail_on
    failing = [f for f in findings if fail_on is not None and _at_least(f.severity, fail_on)]
    conclusion = "failure" if failing else ("neutral" if findings else "success")
    return CheckRunOutput(
        title=_check_title(findings),
        summary=_check_summary(findings, fail_on, failing, public_url.rstrip("/"), skipped),
        conclusion=conclusion,
        annotations=tuple(_annotation(f) for f in sorted(findings, key=_position)),
    )


def config_error_output(problem: str) -> CheckRunOutput:
    """The check run when the repository's configuration cannot be used: say what to fix."""
    return CheckRunOutput(
        title="debtbot could not read its configuration",
        summary=(
            "No review was made for this commit, because `pyproject.toml` has a problem:\n\n"
            f"{code_block(problem, 'text')}\n\nFix it and push again."
        ),
        conclusion="neutral",
    )


def _check_title(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No debt found on changed lines"
    by_severity = Counter(f.severity for f in findings)
    detail = ", ".join(
        count(by_severity[s], s, s if s == "info" else s + "s")
        for s in reversed(SEVERITIES)
        if by_severity[s]
    )
    return f"{count(len(findings), 'finding')} on changed lines ({detail})"


def _check_summary(
    findings: Sequence[Finding],
    fail_on: str | None,
    failing: Sequence[Finding],
    base: str,
    skipped: Sequence[Skipped],
) -> str:
    parts = []
    if findings:
        by_principle = Counter(f.principle for f in findings)
        rows = ["| Principle | Findings |", "| --- | ---: |"]
        for slug in sorted(by_principle, key=principle_order):
            principle = PRINCIPLES.get(slug)
            title = principle.title if principle else slug
            link = f"[{title}]({base}/principles/{slug})" if base else title
            rows.append(f"| {link} | {by_principle[slug]} |")
        parts.append("\n".join(rows))
    else:
        parts.append("No finding on the lines this pull request adds or changes.")
    if fail_on is None:
        parts.append(
            "This check informs and never fails. To make it fail, set "
            '`fail-on = "error"` (or `"warning"`, `"info"`) under `[tool.debtbot.review]`.'
        )
    else:
        verdict = f"{count(len(failing), 'finding')} at or above it" if failing else "none"
        parts.append(f'The repository fails this check on `fail-on = "{fail_on}"`: {verdict}.')
    if skipped:
        listed = "\n".join(f"- {code_span(s.path)}: {s.reason}" for s in skipped)
        parts.append(f"Not analysed:\n{listed}")
    return "\n\n".join(parts)


def _annotation(finding: Finding) -> Annotation:
    return Annotation(
        path=finding.path,
        start_line=finding.line,
        end_line=max(finding.line, finding.end_line),
        level=_ANNOTATION_LEVELS[finding.severity],
        title=f"{finding.code} {_title(finding)} ({finding.principle})",
        message=finding.message,
    )


# --- small helpers -------------------------------------------------------------------------


def _headline(finding: Finding, rule: Rule | None) -> str:
    return f"**{_title(finding, rule)}** · {finding.principle} · {finding.code}"


def _title(finding: Finding, rule: Rule | None = None) -> str:
    """A rule's name as words ("Fixed decision threshold"); the code for an unknown rule."""
    name = finding.name or (rule.name if rule else "")
    if not name:
        known = rules_by_code().get(finding.code)
        name = known.name if known else ""
    return title_of(name) if name else finding.code


def _instead(rule: Rule, finding: Finding, suggestion: bool) -> list[str]:
    """What to do instead: the rule's advice, then the fix as a suggestion, else its example."""
    prose, example, language = _advice(doc_section(rule, "Use instead"))
    parts = [f"**Instead:** {prose}"] if prose else []
    if finding.replacement is not None and suggestion:
        parts.append(code_block(finding.replacement, "suggestion"))
    elif example:
        parts.append(
            f"<details><summary>Example</summary>\n\n{code_block(example, language)}\n\n</details>"
        )
    return parts


def _advice(section: str) -> tuple[str, str, str]:
    """A "Use instead" section's first paragraph, its first code block and that block's language."""
    prose = _first_paragraph(section)
    if prose.endswith(":"):  # it introduced the example, which may not follow here
        prose = prose[:-1] + "."
    lines = section.splitlines()
    for index, line in enumerate(lines):
        block = _CODE_BLOCK.match(line.strip())
        if block is None:
            continue
        body = []
        for following in lines[index + 1 :]:
            if following.strip() and not following.startswith("    "):
                break
            body.append(following[4:])
        return prose, _trim(body), block.group(1)
    return prose, "", ""


def _first_paragraph(section: str) -> str:
    paragraph = []
    for line in section.splitlines():
        if not line.strip():
            if paragraph:
                break
            continue
        if _CODE_BLOCK.match(line.strip()):
            break
        paragraph.append(line.strip())
    return _markdown(" ".join(paragraph))


def _short(text: str) -> str:
    """The leading sentences of ``text`` that fit in a glance (at least one)."""
    sentences = _SENTENCE_END.split(text)
    kept = sentences[:1]
    for sentence in sentences[1:]:
        if len(" ".join([*kept, sentence])) > WHY_LENGTH:
            break
        kept.append(sentence)
    return " ".join(kept)


def _markdown(rest: str) -> str:
    # reST inline literals are double backticks; Markdown takes single ones.
    return rest.replace("``", "`")


def _trim(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(lines)


def _importance(finding: Finding) -> tuple[int, str, int, str]:
    return (-SEVERITIES.index(finding.severity), finding.path, finding.line, finding.code)


def _position(finding: Finding) -> tuple[str, int, str]:
    return (finding.path, finding.line, finding.code)


def _at_least(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
