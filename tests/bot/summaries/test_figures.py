"""Weekly summaries from a store filled with recorded reviews, on SQLite and PostgreSQL.

Two accounts (an organisation and a user) and a look-alike (``acme-labs``) review pull requests
in the same weeks; each account's figures must hold its own repositories and nothing else.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import store
from bot.cli.main import main
from bot.domain import PullRequestRef
from bot.summaries import figures as summary
from rules.finding import Finding
from tests.bot.store.test_store import engine, postgres_engine, sqlite_engine  # noqa: F401  (fixtures)

PUBLIC_URL = "https://debtbot.example.com"
RULES = {
    "DEBT301": "cutting-corners",
    "DEBT302": "cutting-corners",
    "DEBT401": "best-practices-trap",
    "DEBT702": "data-dependencies",
    "DEBT703": "data-dependencies",
    "DEBT801": "glue-code",
}
INSTALLATIONS = {"acme": 1, "umbrella": 2, "acme-labs": 3}


def _at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 10, 30, tzinfo=UTC)


def _finding(fingerprint: str, code: str, path: str) -> Finding:
    return Finding(code, RULES[code], path, 3, 3, 1, "warning", "msg", fingerprint)


def _review(session, full_name, number, head, at, found=(), fixed=(), suppressed=()):
    owner, _, name = full_name.partition("/")
    ref = PullRequestRef(INSTALLATIONS[owner], owner, name, number, head, "main", "b" * 40)
    findings = [_finding(*spec) for spec in found]
    store.record_analysis(
        session, ref, findings, {}, list(fixed), 2.0, suppressed=list(suppressed), finished_at=at
    )


@pytest.fixture
def sessions(engine):  # noqa: F811
    factory = store.make_session_factory(engine)
    with factory() as session:
        _fill(session)
    return factory


def _fill(session) -> None:
    repositories = {
        1: ["acme/models", "acme/pipelines", "acme/retired"],
        2: ["umbrella/models"],
        3: ["acme-labs/models"],
    }
    for account, installation_id in INSTALLATIONS.items():
        kind = "User" if account == "umbrella" else "Organization"
        store.upsert_installation(session, installation_id, account, kind)
        store.set_installation_repositories(
            session,
            installation_id,
            added=[
                store.RepositoryInfo(installation_id * 100 + index, full_name)
                for index, full_name in enumerate(repositories[installation_id])
            ],
        )
    train, features = "src/train.py", "src/features.py"
    # Week 46 and 47: history for the trend.
    _review(
        session,
        "acme/models",
        1,
        "h1",
        _at(11),
        [("a1", "DEBT301", train), ("a2", "DEBT401", train)],
    )
    _review(session, "acme/models", 1, "h2", _at(18), [("a2", "DEBT401", train)], fixed=["a1"])
    # Week 48 (23 to 29 November 2026).
    _review(
        session,
        "acme/models",
        1,
        "h3",
        _at(24),
        [("a3", "DEBT301", train), ("a4", "DEBT301", features), ("a5", "DEBT302", train)],
        fixed=["a1"],  # named again: it was fixed in week 47 and stays there
        suppressed=["a2"],
    )
    pipeline = [("p1", "DEBT801", "run.py"), ("p2", "DEBT301", "run.py")]
    _review(session, "acme/pipelines", 4, "q1", _at(25), pipeline)
    _review(session, "acme/pipelines", 4, "q2", _at(26), pipeline[1:], fixed=["p1"])
    # A second pull request with the same finding: counted as reported, one hotspot finding.
    _review(session, "acme/pipelines", 5, "q3", _at(27), pipeline[1:])
    # A repository the installation no longer sees.
    _review(session, "acme/retired", 2, "r1", _at(24), [("r1", "DEBT301", "old.py")])
    store.set_installation_repositories(
        session, 1, removed=[store.RepositoryInfo(102, "acme/retired")]
    )
    # The other accounts, busy the same week.
    _review(
        session,
        "umbrella/models",
        1,
        "u1",
        _at(24),
        [("u1", "DEBT703", "requirements.py"), ("u2", "DEBT703", "setup.py")],
    )
    _review(session, "umbrella/models", 1, "u2", _at(27), [], fixed=["u1", "u2"])
    _review(session, "acme-labs/models", 9, "l1", _at(25), [("l1", "DEBT702", train)])
    # Week 49: a week-48 finding is fixed after the week ended.
    _review(session, "acme/models", 1, "h4", _at(1, 12), [], fixed=["a3"])


def test_a_week_counts_reviews_and_findings_of_the_accounts_own_repositories(sessions):
    with sessions() as session:
        figures = summary.weekly_figures(session, "acme", "2026-W48")

    assert (figures.week, figures.start, figures.end) == (
        "2026-W48",
        datetime(2026, 11, 23, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    )
    assert figures.repositories == ("acme/models", "acme/pipelines")
    assert (figures.reviewed, figures.added, figures.fixed, figures.suppressed) == (3, 6, 1, 1)
    assert [
        (t.name, t.reviewed, t.added, t.fixed, t.suppressed) for t in figures.by_repository
    ] == [
        ("acme/pipelines", 2, 3, 1, 0),
        ("acme/models", 1, 3, 0, 1),
    ]
    assert [(t.name, t.added, t.fixed, t.suppressed) for t in figures.by_principle] == [
        ("cutting-corners", 5, 0, 0),
        ("glue-code", 1, 1, 0),
        ("best-practices-trap", 0, 0, 1),
    ]
    assert [(r.code, r.added) for r in figures.top_rules] == [
        ("DEBT301", 4),
        ("DEBT302", 1),
        ("DEBT801", 1),
    ]
    assert [(p.week, p.added, p.fixed) for p in figures.trend] == [
        ("2026-W41", 0, 0),
        ("2026-W42", 0, 0),
        ("2026-W43", 0, 0),
        ("2026-W44", 0, 0),
        ("2026-W45", 0, 0),
        ("2026-W46", 2, 0),
        ("2026-W47", 0, 1),
        ("2026-W48", 6, 1),
    ]
    # a3 was fixed in week 49, so it was open when week 48 ended; p2 is one finding in two
    # pull requests.
    assert [(h.repository, h.path, h.open_findings, h.sha) for h in figures.hotspots] == [
        ("acme/models", "src/train.py", 2, "h3"),
        ("acme/models", "src/features.py", 1, "h3"),
        ("acme/pipelines", "run.py", 1, "q3"),
    ]


def test_two_accounts_never_mix_whatever_the_case_of_the_name(sessions):
    with sessions() as session:
        acme = summary.weekly_figures(session, "ACME", "2026-W48")
        umbrella = summary.weekly_figures(session, "umbrella", "2026-W48")
        labs = summary.weekly_figures(session, "acme-labs", "2026-W48")

    assert acme.repositories == ("acme/models", "acme/pipelines") and acme.added == 6
    assert umbrella.repositories == ("umbrella/models",)
    assert (umbrella.reviewed, umbrella.added, umbrella.fixed) == (1, 2, 2)
    assert [r.code for r in umbrella.top_rules] == ["DEBT703"]
    assert umbrella.hotspots == ()
    assert (labs.repositories, labs.added) == (("acme-labs/models",), 1)
    rendered = summary.render_summary(umbrella, PUBLIC_URL)
    assert "acme" not in rendered and "umbrella/models" in rendered


def test_the_next_week_sees_the_fix_and_a_quiet_week_says_so(sessions):
    with sessions() as session:
        week49 = summary.weekly_figures(session, "acme", "2026-W49")
        quiet = summary.weekly_figures(session, "acme", "2026-W30")
    assert (week49.reviewed, week49.added, week49.fixed) == (1, 0, 1)
    assert [(h.path, h.open_findings, h.sha) for h in week49.hotspots] == [
        ("src/features.py", 1, "h3"),
        ("src/train.py", 1, "h3"),
        ("run.py", 1, "q3"),
    ]
    assert [p.week for p in week49.trend][-1] == "2026-W49"

    rendered = summary.render_summary(quiet, PUBLIC_URL)
    assert "No pull request was reviewed and no finding changed this week." in rendered
    assert "No rule fired this week." in rendered
    assert "No open findings when the week ended." in rendered
    assert '    y-axis "findings" 0 --> 1\n' in rendered  # an empty chart still has an axis


def test_the_summary_renders_a_mermaid_chart_tables_and_links(sessions):
    with sessions() as session:
        figures = summary.weekly_figures(session, "acme", "2026-W48")
    rendered = summary.render_summary(figures, PUBLIC_URL + "/")

    assert rendered.startswith(
        "<!-- debtbot:summary acme 2026-W48 -->\n## Technical debt in acme, week 2026-W48"
    )
    assert "23 November 2026 to 29 November 2026 (UTC), across 2 repositories" in rendered
    assert "**3 pull requests reviewed** · **6 added** · **1 fixed** · **1 suppressed**" in rendered
    chart = rendered.split("```mermaid\n")[1].split("```")[0]
    assert chart.splitlines() == [
        "xychart-beta",
        '    title "Findings added and fixed per week"',
        '    x-axis ["W41", "W42", "W43", "W44", "W45", "W46", "W47", "W48"]',
        '    y-axis "findings" 0 --> 6',
        "    bar [0, 0, 0, 0, 0, 2, 0, 6]",
        "    line [0, 0, 0, 0, 0, 0, 1, 1]",
    ]
    assert "| [acme/pipelines](https://github.com/acme/pipelines) | 2 | 3 | 1 | 0 |" in rendered
    assert (
        f"| [Glue code and pipeline jungles]({PUBLIC_URL}/principles/glue-code) | 1 | 1 | 0 |"
        in rendered
    )
    assert (
        f"1. [DEBT301 swallowed-exception]({PUBLIC_URL}/rules/DEBT301) "
        f"([Cutting corners]({PUBLIC_URL}/principles/cutting-corners)): 4 findings"
    ) in rendered
    assert (
        "- [`acme/models/src/train.py`](https://github.com/acme/models/blob/h3/src/train.py): "
        "2 open findings"
    ) in rendered
    assert "retired" not in rendered


def test_links_follow_a_github_enterprise_server_and_work_without_a_public_url(sessions):
    with sessions() as session:
        figures = summary.weekly_figures(session, "acme", "2026-W48")
    rendered = summary.render_summary(figures, "", github_url="https://ghe.example.com/")
    assert "(https://ghe.example.com/acme/models/blob/h3/src/features.py)" in rendered
    assert "1. DEBT301 swallowed-exception (" in rendered and "/rules/" not in rendered


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-48", "not a week"),
        ("W48", "not a week"),
        ("2026-W00", "2026 has no week 0"),
        ("2025-W53", "2025 has no week 53"),
    ],
)
def test_a_bad_week_is_refused_with_a_clear_message(text, message):
    with pytest.raises(summary.WeekError, match=message):
        summary.parse_week(text)


def test_iso_weeks_cross_years_as_the_calendar_does():
    assert summary.parse_week(" 2026-W53 ") == (2026, 53)
    assert summary.week_start(2027, 1) == datetime(2027, 1, 4, tzinfo=UTC)
    assert summary.last_complete_week(datetime(2027, 1, 4, 9, tzinfo=UTC)) == (2026, 53)


# --- debtbot summary ---------------------------------------------------------------------------


@pytest.fixture
def store_file(tmp_path):
    """A SQLite store file filled like the one above."""
    path = tmp_path / "store.sqlite3"
    database = store.make_engine(f"sqlite:///{path}")
    store.create_schema(database)
    with store.make_session_factory(database)() as session:
        _fill(session)
    database.dispose()
    return path


def test_the_command_prints_the_summary_of_one_week(store_file, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{store_file}")
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.delenv("GITHUB_URL", raising=False)

    assert main(["summary", "--org", "umbrella", "--week", "2026-W48"]) == 0

    out, err = capsys.readouterr()
    assert out.startswith(
        summary.summary_marker("umbrella", "2026-W48")
        + "\n## Technical debt in umbrella, week 2026-W48"
    )
    assert "**1 pull request reviewed** · **2 added** · **2 fixed** · **0 suppressed**" in out
    assert f"[DEBT703 unpinned-requirement]({PUBLIC_URL}/rules/DEBT703)" in out
    assert "acme" not in out and err == ""


def test_the_command_takes_the_store_from_the_option_and_defaults_to_last_week(
    store_file, capsys, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent/elsewhere.sqlite3")
    assert main(["summary", "--org", "acme", "--database-url", f"sqlite:///{store_file}"]) == 0
    expected = summary.week_name(*summary.last_complete_week())
    assert f"## Technical debt in acme, week {expected}\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--week", "2026-48"], "'2026-48' is not a week; write it as an ISO week, like 2026-W48"),
        (["--week", "2025-W53"], "2025 has no week 53"),
        (["--org", "nobody"], "the store has no repositories of 'nobody'"),
        (["--database-url", "sqlite:///{missing}"], "no store at "),
        (["--database-url", "::not a url::"], "is not a database URL"),
    ],
)
def test_the_command_refuses_what_it_cannot_summarise_with_exit_status_2(
    store_file, capsys, argv, message
):
    options = {"--org": "acme", "--database-url": f"sqlite:///{store_file}"}
    options |= dict(zip(argv[::2], argv[1::2], strict=True))
    options["--database-url"] = options["--database-url"].format(
        missing=store_file.parent / "missing.sqlite3"
    )

    assert main(["summary", *(part for pair in options.items() for part in pair)]) == 2

    out, err = capsys.readouterr()
    assert out == "" and err.startswith("debtbot: error: ") and message in err
    assert not (store_file.parent / "missing.sqlite3").exists()
