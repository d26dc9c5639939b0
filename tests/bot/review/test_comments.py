from __future__ import annotations

import re

import pytest

from bot.domain import InlineComment
from bot.review import comments
from rules.finding import Finding, Skipped

URL = "https://debtbot.example.com/"


def finding(
    code: str = "DEBT1101",
    path: str = "pkg/model.py",
    line: int = 10,
    end_line: int | None = None,
    severity: str = "warning",
    replacement: str | None = None,
    fingerprint: str | None = None,
    principle: str = "external-world",
) -> Finding:
    return Finding(
        code=code,
        principle=principle,
        path=path,
        line=line,
        end_line=end_line or line,
        column=5,
        severity=severity,
        message=f"Do not do `{code}` here.",
        fingerprint=fingerprint or f"fp{code}{path}{line}".replace("/", "").replace(".", ""),
        replacement=replacement,
    )


# --- comment bodies ------------------------------------------------------------------------


def test_comment_body_anatomy() -> None:
    body = comments.comment_body(finding(), URL)
    headline, message, why, *_ = body.split("\n\n")
    assert headline == "**Fixed decision threshold** · external-world · DEBT1101"
    assert message == "Do not do `DEBT1101` here."
    # The rule's own explanation, Markdown-ified: no reST double backticks survive.
    assert why.startswith("A cut-off such as 0.73 was chosen")
    assert "``" not in body.replace("```", "")
    assert "**Instead:** Keep the threshold next to the model" in body
    assert "<details><summary>Example</summary>" in body and "```python" in body
    assert "[Why this is debt](https://debtbot.example.com/principles/external-world)" in body
    assert "[Rule DEBT1101](https://debtbot.example.com/rules/DEBT1101)" in body
    assert "`# debt: ignore[DEBT1101]`" in body
    assert body.endswith(f"<!-- debtbot:fingerprint={finding().fingerprint} -->")
    assert "```suggestion" not in body


def test_why_is_short() -> None:
    # DEBT501's first paragraph is long; the comment keeps only its first sentences.
    body = comments.comment_body(finding("DEBT501", principle="changing-anything"), URL)
    why = body.split("\n\n")[2]
    assert why.startswith("An in-place call changes the object")
    assert len(why) <= comments.WHY_LENGTH + 200
    assert "PDEP-8" not in why


def test_safe_replacement_becomes_a_suggestion() -> None:
    fix = finding("DEBT401", principle="best-practices-trap", replacement="x = yaml.safe_load(f)")
    body = comments.comment_body(fix, URL)
    assert "```suggestion\nx = yaml.safe_load(f)\n```" in body
    assert "<details>" not in body  # the suggestion is the example
    without = comments.comment_body(fix, URL, suggestion=False)
    assert "```suggestion" not in without and "```python" in without


def test_suggestion_fence_survives_backticks_in_the_code() -> None:
    fix = finding("DEBT401", principle="best-practices-trap", replacement='s = """```"""')
    body = comments.comment_body(fix, URL)
    assert '````suggestion\ns = """```"""\n````' in body


def test_fingerprint_round_trip() -> None:
    body = comments.comment_body(finding(fingerprint="abc123def456"), URL)
    assert comments.fingerprint_of(body) == "abc123def456"
    assert comments.fingerprint_of("Looks good to me") is None
    assert comments.resolved_fingerprint_of(body) is None


def test_resolved_reply() -> None:
    reply = comments.resolved_reply("abc123", "0123456789abcdef0123456789abcdef01234567")
    assert "0123456789ab" in reply and "0123456789abcdef0123" not in reply
    assert comments.resolved_fingerprint_of(reply) == "abc123"
    assert comments.fingerprint_of(reply) is None  # a reply is never mistaken for a comment


def test_unknown_rule_still_renders() -> None:
    body = comments.comment_body(finding("DEBT9999"), URL)
    assert body.startswith("**DEBT9999** · external-world · DEBT9999")
    assert comments.fingerprint_of(body)


# --- placement -----------------------------------------------------------------------------

HUNKS = {"pkg/model.py": (range(2, 9), range(13, 21))}


def test_single_line_finding_is_placed_on_its_line() -> None:
    place = comments.placement(finding(line=5), HUNKS)
    assert place == comments.Placement(line=5, start_line=None, exact=True)


def test_multi_line_finding_inside_one_hunk_uses_start_line() -> None:
    place = comments.placement(finding(line=14, end_line=17), HUNKS)
    assert place == comments.Placement(line=17, start_line=14, exact=True)


def test_finding_reaching_past_its_hunk_is_cut_to_it() -> None:
    place = comments.placement(finding(line=6, end_line=15), HUNKS)
    assert place == comments.Placement(line=8, start_line=6, exact=False)
    place = comments.placement(finding(line=11, end_line=13), HUNKS)
    assert place == comments.Placement(line=13, start_line=None, exact=False)


def test_finding_outside_the_diff_has_no_place() -> None:
    assert comments.placement(finding(line=10), HUNKS) is None
    assert comments.placement(finding(path="other.py", line=3), HUNKS) is None


def test_inline_comment_drops_the_suggestion_when_cut() -> None:
    fix = finding("DEBT401", principle="best-practices-trap", line=6, end_line=15, replacement="x")
    comment = comments.inline_comment(fix, HUNKS, URL)
    assert (comment.path, comment.start_line, comment.line) == ("pkg/model.py", 6, 8)
    assert "```suggestion" not in comment.body
    exact = comments.inline_comment(
        finding("DEBT401", principle="best-practices-trap", line=14, end_line=15, replacement="x"),
        HUNKS,
        URL,
    )
    assert exact == InlineComment(
        path="pkg/model.py", line=15, start_line=14, body=exact.body, fingerprint=exact.fingerprint
    )
    assert "```suggestion" in exact.body
    with pytest.raises(ValueError, match="outside the diff"):
        comments.inline_comment(finding(line=10), HUNKS, URL)


# --- planning ------------------------------------------------------------------------------


def test_plan_skips_what_was_already_said() -> None:
    old, new = finding(line=3), finding(line=14)
    plan = comments.plan_review([old, new], {old.fingerprint}, cap=25)
    assert plan.inline == (new,) and plan.listed == ()
    assert comments.plan_review([old], {old.fingerprint}, cap=25).is_empty


def test_plan_caps_inline_comments_most_severe_first() -> None:
    info = finding(line=3, severity="info", path="a.py")
    warning = finding(line=4, severity="warning", path="b.py")
    error = finding(line=20, severity="error", path="c.py")
    plan = comments.plan_review([info, warning, error, warning], set(), cap=2)
    assert plan.inline == (error, warning)
    assert plan.listed == (info,)  # the duplicate warning is said once


def test_one_comment_per_rule_and_file_names_the_others() -> None:
    first, second, third = (finding(line=n) for n in (12, 3, 30))
    other_rule = finding("DEBT501", line=5, principle="changing-anything")
    plan = comments.plan_review([first, second, third, other_rule], set(), cap=25)
    assert plan.inline == (second, other_rule)
    assert plan.riders[second.fingerprint] == (first, third)
    assert plan.listed == ()
    assert set(plan.said) == {first, second, third, other_rule}
    [comment, _] = comments.inline_comments(plan, {"pkg/model.py": (range(1, 40),)}, URL)
    assert "The same in this file on lines 12 and 30." in comment.body
    assert comment.fingerprint == second.fingerprint


def test_a_rule_and_file_with_an_open_comment_get_no_second_one() -> None:
    new = finding(line=14)
    plan = comments.plan_review([new], set(), cap=25, commented={("DEBT1101", "pkg/model.py")})
    assert plan.inline == () and plan.listed == (new,)
    body = comments.review_body(plan, "a" * 40, URL)
    assert "`pkg/model.py:14`" in body


def test_plan_lists_findings_that_cannot_be_placed() -> None:
    placed, outside = finding(line=5), finding(line=10, path="pkg/other.py")
    plan = comments.plan_review([placed, outside], set(), cap=25, hunks=HUNKS)
    assert plan.inline == (placed,) and plan.listed == (outside,)


def test_plan_with_cap_zero_lists_everything() -> None:
    plan = comments.plan_review([finding(line=5)], set(), cap=0)
    assert plan.inline == () and len(plan.listed) == 1 and not plan.is_empty
    with pytest.raises(ValueError, match="0 or more"):
        comments.plan_review([], set(), cap=-1)


def test_review_body_lists_what_is_not_inline() -> None:
    plan = comments.plan_review(
        [finding(line=n, path=f"pkg/m{n}.py") for n in range(1, 5)], set(), cap=1
    )
    body = comments.review_body(plan, "f" * 40, URL)
    assert body.startswith(f"**debtbot** looked at {'f' * 12}: 4 new findings on changed lines.")
    assert "1 is commented on in this review." in body
    assert "(1 at most)" in body
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(listed) == 3
    assert listed[0].startswith("- `pkg/m2.py:2` **Fixed decision threshold** · ")
    assert "(https://debtbot.example.com/rules/DEBT1101)" in listed[0]


def test_review_body_points_to_the_check_run_past_fifty() -> None:
    many = [finding(line=n) for n in range(1, 80)]
    body = comments.review_body(comments.plan_review(many, set(), cap=0), "a" * 40, URL)
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(listed) == comments.LISTED_IN_BODY + 1
    assert listed[-1] == "- … and 29 more: the **debtbot** check run lists every finding."


# --- check run -----------------------------------------------------------------------------


def test_check_run_annotates_every_finding() -> None:
    found = [
        finding(line=9, severity="error"),
        finding("DEBT401", principle="best-practices-trap", line=2, severity="warning"),
        finding("DEBT1003", principle="experimentation-paths", line=4, severity="info"),
    ] + [finding(line=100 + n) for n in range(60)]
    output = comments.check_run_output(found, public_url=URL)
    assert len(output.annotations) == 63
    first = output.annotations[0]
    assert (first.path, first.start_line, first.level) == ("pkg/model.py", 2, "warning")
    assert first.title == "DEBT401 Unsafe YAML load (best-practices-trap)"
    levels = {a.start_line: a.level for a in output.annotations}
    assert levels[9] == "failure" and levels[4] == "notice"
    assert output.title == "63 findings on changed lines (1 error, 61 warnings, 1 info)"
    assert "| [Changes in the external world](https://debtbot.example.com/principles/" in (
        output.summary
    )
    rows = re.findall(r"^\| \[(.+?)\]\(.+?\) \| (\d+) \|$", output.summary, re.MULTILINE)
    assert rows == [
        ("The best practices trap", "1"),
        ("Experimentation paths", "1"),
        ("Changes in the external world", "61"),
    ]


def test_check_run_gate() -> None:
    warning = finding(severity="warning")
    assert comments.check_run_output([]).conclusion == "success"
    assert comments.check_run_output([warning]).conclusion == "neutral"
    assert comments.check_run_output([warning], fail_on="error").conclusion == "neutral"
    failing = comments.check_run_output([warning], fail_on="warning")
    assert failing.conclusion == "failure"
    assert 'fail-on = "warning"`: 1 finding at or above it' in failing.summary
    assert "never fails" in comments.check_run_output([warning]).summary
    assert comments.check_run_output([warning], fail_on="never").conclusion == "neutral"


def test_check_run_lists_files_it_could_not_read() -> None:
    output = comments.check_run_output([], skipped=[Skipped("a.py", "syntax error at line 3")])
    assert output.title == "No debt found on changed lines"
    assert "- `a.py`: syntax error at line 3" in output.summary


def test_config_error_output_says_what_to_fix() -> None:
    output = comments.config_error_output("[tool.debtbot] unknown key 'selekt'")
    assert output.conclusion == "neutral" and output.annotations == ()
    assert "unknown key 'selekt'" in output.summary


def test_review_body_counts_findings_named_in_comments() -> None:
    plan = comments.plan_review([finding(line=n) for n in (3, 9, 27)], set(), cap=25)
    body = comments.review_body(plan, "b" * 40, URL)
    assert "3 new findings on changed lines." in body
    assert "3 are commented on in this review, in 1 comment." in body
    assert "- `" not in body  # nothing left to list
