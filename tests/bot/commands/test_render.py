"""Commands in pull request comments, and the report they produce: pure functions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.commands import render as commands
from bot.commands.render import (
    FULL,
    HELP,
    REPORT,
    Command,
    ReportInput,
    parse_command,
    render_report,
)
from bot.store import StoredFinding
from rules.finding import Finding, Skipped

PUBLIC_URL = "https://debtbot.example.com/"
WHEN = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
HEAD, BASE = "a" * 40, "b" * 40


def finding(
    code: str = "DEBT301",
    principle: str = "cutting-corners",
    path: str = "train.py",
    line: int = 3,
    fingerprint: str = "fp1",
    severity: str = "warning",
    message: str = "An exception is swallowed.",
) -> Finding:
    return Finding(
        code=code,
        principle=principle,
        path=path,
        line=line,
        end_line=line,
        column=1,
        severity=severity,
        message=message,
        fingerprint=fingerprint,
    )


def report(**fields) -> ReportInput:
    defaults = dict(
        full_name="acme/models",
        number=7,
        head_sha=HEAD,
        base_sha=BASE,
        scope=commands.CHANGED,
        head=(),
        base=(),
        files=("train.py",),
    )
    return ReportInput(**(defaults | fields))


# -- parse_command --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/debt-report", Command(REPORT)),
        ("  \n\n   /DEBT-Report  \nplease", Command(REPORT)),
        ("/debt-report full", Command(REPORT, scope=FULL)),
        ("/debt-report FULL\r\n", Command(REPORT, scope=FULL)),
        ("/debt-report glue-code", Command(REPORT, scope="glue-code")),
        ("/debt help", Command(HELP)),
        ("/Debt   HELP", Command(HELP)),
        ("/debt-report help", Command(HELP)),
        # A quote-reply puts the quote first: the command is the first line the person wrote.
        ("> what did the bot say?\n\n/debt-report", Command(REPORT)),
        ("```\nsome code\n```\n/debt-report full", Command(REPORT, scope=FULL)),
    ],
)
def test_commands_are_recognised(body, expected):
    assert parse_command(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n",
        "LGTM",
        "please run /debt-report",
        "Thanks!\n/debt-report",
        "/debt-reports",
        "/debtreport",
        "/debt-report-full",
        "> /debt-report",
        "> /debt-report\n\nwhy did this not work?",
        ">/debt-report",
        "```\n/debt-report\n```",
        "~~~text\n/debt-report\n~~~\nsee above",
        "````\n```\n/debt-report\n````",  # the inner fence does not close the outer one
        "```\n/debt-report",  # an unclosed fence runs to the end
    ],
)
def test_everything_else_is_not_a_command(body):
    assert parse_command(body) is None


def test_an_unknown_argument_is_a_command_that_says_what_is_wrong():
    command = parse_command("/debt-report everything")

    assert command is not None and command.name == REPORT
    assert "`everything`" in command.problem


def test_too_many_arguments_and_unknown_subcommands_say_what_is_wrong():
    assert parse_command("/debt-report full glue-code").problem
    command = parse_command("/debt explain")
    assert command.name == HELP and "/debt explain" in command.problem


def test_a_principle_argument_names_its_principle():
    assert parse_command("/debt-report data-dependencies").principle == "data-dependencies"
    assert parse_command("/debt-report full").principle is None


def test_help_lists_every_command_and_leads_with_the_problem():
    text = commands.render_help(PUBLIC_URL, problem="`x` is not known.")

    assert text.startswith("`x` is not known.")
    for command in ("/debt-report`", "/debt-report full`", "/debt help`", "`glue-code`"):
        assert command in text
    assert "https://debtbot.example.com/principles" in text


def test_the_refusal_names_the_person_and_who_may_run_it():
    text = commands.render_refusal("mallory")

    assert "@mallory" in text and "write, maintain or admin" in text


# -- the report -----------------------------------------------------------------------------


def test_added_and_paid_off_compare_fingerprints_with_the_base():
    kept = finding(fingerprint="kept", line=10)
    moved = finding(fingerprint="kept", line=20)  # same finding, lines shifted
    new = finding(fingerprint="new")
    old = finding(fingerprint="old")

    added, paid = commands.added_and_paid_off([moved, new], [kept, old])

    assert [f.fingerprint for f in added] == ["new"]
    assert [f.fingerprint for f in paid] == ["old"]


def test_the_report_totals_principles_files_and_links_each_finding():
    head = (
        finding(fingerprint="a", path="train.py", line=3),
        finding(fingerprint="b", path="train.py", line=9, severity="error"),
        finding(
            code="DEBT401",
            principle="best-practices-trap",
            path="config.py",
            fingerprint="c",
            message="yaml.load without a safe loader.",
        ),
    )
    base = (
        finding(fingerprint="a", path="train.py", line=3),
        finding(code="DEBT801", principle="glue-code", path="run.py", fingerprint="gone"),
    )
    left_out = (
        StoredFinding(
            fingerprint="c",
            code="DEBT401",
            principle="best-practices-trap",
            path="config.py",
            line=3,
            end_line=3,
            severity="warning",
            message="yaml.load without a safe loader.",
            status="open",
            first_seen_sha=HEAD,
            last_seen_sha=HEAD,
        ),
    )

    text = render_report(
        report(head=head, base=base, files=("train.py", "config.py", "run.py"), left_out=left_out),
        PUBLIC_URL,
        WHEN,
    )

    assert text.startswith(commands.REPORT_MARKER)
    assert "the 3 Python files this pull request changes" in text
    assert "**3 findings** (1 error, 2 warnings) · **2 added** · **1 paid off**" in text
    table = {
        row.split("|")[1].strip(): [cell.strip() for cell in row.split("|")[2:5]]
        for row in text.splitlines()
        if row.startswith("| [")
    }
    assert table == {
        "[Cutting corners](https://debtbot.example.com/principles/cutting-corners)": [
            "2",
            "1",
            "0",
        ],
        "[The best practices trap](https://debtbot.example.com/principles/best-practices-trap)": [
            "1",
            "1",
            "0",
        ],
        "[Glue code and pipeline jungles](https://debtbot.example.com/principles/glue-code)": [
            "0",
            "0",
            "1",
        ],
    }
    assert "| `train.py` | 2 |\n| `config.py` | 1 |" in text
    assert (
        "- `config.py:3` **Unsafe YAML load** · "
        "[DEBT401](https://debtbot.example.com/rules/DEBT401): yaml.load without a safe loader."
    ) in text
    assert re.search(r"### Paid off by this pull request \(1\)\n\n- `run.py:3`.*DEBT801", text)
    assert "### Left out of the review (1)" in text
    assert "### Every finding at the head commit (3)" in text
    assert "Updated 2026-11-27 18:30 UTC for aaaaaaaaaaaa" in text
    assert "did not fit" not in text


def test_the_update_time_is_shown_in_utc():
    amsterdam = timezone(timedelta(hours=1))
    text = render_report(report(), PUBLIC_URL, datetime(2026, 11, 27, 19, 30, tzinfo=amsterdam))

    assert "Updated 2026-11-27 18:30 UTC" in text


def test_a_clean_pull_request_says_so_without_empty_sections():
    text = render_report(report(), PUBLIC_URL, WHEN)

    assert "**0 findings** · **0 added** · **0 paid off**" in text
    assert "###" not in text


def test_scope_full_and_principle_are_named():
    full = render_report(report(scope=FULL, files=("a.py", "b.py")), PUBLIC_URL, WHEN)
    one = render_report(report(scope="glue-code"), PUBLIC_URL, WHEN)

    assert "every Python file of the repository (2)" in full
    assert "the findings of *Glue code and pipeline jungles*" in one


def test_files_that_could_not_be_read_are_listed():
    text = render_report(
        report(skipped=(Skipped("broken.py", "syntax error on line 2"),)), PUBLIC_URL, WHEN
    )

    assert "### Not analysed\n\n- `broken.py`: syntax error on line 2" in text


def test_a_huge_pull_request_is_cut_below_the_limit_with_a_note_and_the_check_run_link():
    head = tuple(
        finding(path=f"pkg/module_{n:05}.py", fingerprint=f"fp{n}", message="x " * 200)
        for n in range(3000)
    )
    url = "https://github.example/acme/models/runs/99"

    text = render_report(report(head=head, check_run_url=url), PUBLIC_URL, WHEN)

    assert len(text) < 65_536
    assert text.startswith(commands.REPORT_MARKER)
    assert text.rstrip().endswith("lists the commands.</sub>")
    shown = text.count("- `pkg/module_")
    hidden = int(re.search(r"(\d+) more entries did not fit", text).group(1))
    # Every finding is both added and at head: two entries each, shown or counted as hidden.
    assert shown + hidden == 2 * len(head)
    assert f"[The debtbot check run]({url})" in text


def test_one_enormous_message_cannot_push_the_report_past_the_limit():
    head = (finding(message="y" * 200_000),)

    text = render_report(report(head=head), PUBLIC_URL, WHEN)

    assert len(text) < 65_536
    assert "**1 finding** (1 warning)" in text


def test_a_small_limit_still_keeps_the_summary_and_the_marker():
    head = tuple(finding(fingerprint=f"f{n}", line=n) for n in range(50))

    text = render_report(report(head=head), PUBLIC_URL, WHEN, limit=3_000)

    assert len(text) <= 3_000
    assert commands.REPORT_MARKER in text and "**50 findings**" in text
    assert "The **debtbot** check run of the head commit" in text
