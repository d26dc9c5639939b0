"""``debtbot ledger``: the ledger as CSV and JSON, from a store the ledger's own functions
filled, and the clear errors when there is nothing to export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import store
from bot.cli.main import main

REPO = "acme/models"
NOW = datetime.now(UTC)


def finding(path: str, line: int, code: str = "DEBT1101", principle: str = "external-world"):
    return {
        "fingerprint": f"{path}:{code}:{line}",
        "code": code,
        "principle": principle,
        "severity": "warning",
        "path": path,
        "line": line,
        "end_line": line,
        "message": f"Move the threshold on line {line} into configuration.",
    }


def record(sessions, sha: str, found: list[dict], at: datetime, pull=None, scope="full"):
    paths = {f["path"] for f in found} | {"a.py", "b.py"}
    with sessions() as session:
        state = store.start_ledger_commit(
            session, REPO, sha, scope=scope, catalogue="c1", to_analyse=paths,
            analysed_paths=paths, recorded_at=at, pull=pull,
        )  # fmt: skip
        store.add_ledger_findings(session, state.id, found, paths)
        store.finish_ledger_commit(session, state.id, at)


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/debtbot.sqlite3"
    engine = store.make_engine(url)
    store.create_schema(engine)
    sessions = store.make_session_factory(engine)
    record(sessions, "1" * 40, [finding("a.py", 3)], NOW - timedelta(weeks=3))
    record(
        sessions, "2" * 40, [finding("a.py", 3), finding("b.py", 9)], NOW - timedelta(weeks=2),
        pull=(11, "Add b"),
    )  # fmt: skip
    record(sessions, "3" * 40, [finding("b.py", 9)], NOW - timedelta(weeks=1), pull=(12, "Fix a"))
    return url


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["ledger", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_csv_has_every_finding_with_who_opened_and_closed_it(database: str, capsys) -> None:
    status, out, _ = run(capsys, "--repo", REPO, "--database-url", database)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    by_path = {row["path"]: row for row in rows}
    assert set(by_path) == {"a.py", "b.py"}
    assert by_path["a.py"]["status"] == "paid off"
    assert by_path["a.py"]["opened_commit"] == "1" * 40
    assert by_path["a.py"]["opened_by_pull_request"] == ""
    assert (by_path["a.py"]["closed_commit"], by_path["a.py"]["closed_by_pull_request"]) == (
        "3" * 40,
        "12",
    )
    assert by_path["b.py"]["status"] == "open"
    assert by_path["b.py"]["opened_by_pull_request"] == "11"
    assert by_path["b.py"]["closed_commit"] == ""


def test_csv_weeks_and_json_tell_the_same_story(database: str, capsys) -> None:
    _, out, _ = run(capsys, "--repo", REPO, "--database-url", database, "--table", "weeks")
    weeks = list(csv.DictReader(io.StringIO(out)))
    assert len(weeks) == 26
    assert sum(int(w["added"]) for w in weeks) == 1  # the baseline is not "added"
    assert sum(int(w["paid_off"]) for w in weeks) == 1
    assert weeks[-1]["open"] == "1"

    _, out, _ = run(capsys, "--repo", REPO, "--database-url", database, "--format", "json")
    body = json.loads(out)
    assert body["open"] == 1 and body["commit"] == "3" * 40
    assert [w["open"] for w in body["weeks"]] == [
        int(w["open"]) if w["open"] else None for w in weeks
    ]
    # Three weeks of ledger: the weeks before it have no figure at all.
    assert [w["open"] for w in weeks[-4:]] == ["1", "2", "1", "1"] and weeks[0]["open"] == ""
    assert {p["number"]: (p["added"], p["paid_off"]) for p in body["pull_requests"]} == {
        11: (1, 0),
        12: (0, 1),
    }
    assert body["findings"][0]["path"] == "b.py"
    assert body["findings"][0]["added_by_pull_request"] == 11


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repo", "acme"], "--repo takes OWNER/NAME"),
        (["--repo", "acme/other"], "no ledger of 'acme/other' yet"),
    ],
)
def test_bad_requests_get_a_clear_error(database: str, capsys, args, message) -> None:
    status, out, err = run(capsys, *args, "--database-url", database)
    assert status == 2 and out == ""
    assert message in err


def test_a_missing_store_is_not_created(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nothing.sqlite3"
    status, _, err = run(capsys, "--repo", REPO, "--database-url", f"sqlite:///{missing}")
    assert status == 2 and "no store at" in err
    assert not missing.exists()
