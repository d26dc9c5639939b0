"""``debtbot ledger --repo OWNER/NAME``: a repository's debt ledger from the App's store.

``--format json`` prints the figures the dashboard shows (its JSON API's body);
``--format csv`` one row per finding the default branch ever held, with the commits and pull
requests that opened and closed it, or with ``--table weeks`` one row per week.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.cli.errors import UsageError

DEFAULT_DATABASE_URL = "sqlite:///./debtbot.sqlite3"  # as bot.settings
FINDING_COLUMNS = (
    "status", "rule", "principle", "severity", "path", "line", "end_line", "message",
    "fingerprint", "opened_commit", "opened_at", "opened_by_pull_request", "closed_commit",
    "closed_at", "closed_by_pull_request",
)  # fmt: skip
WEEK_COLUMNS = ("week", "open", "added", "paid_off")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", required=True, metavar="OWNER/NAME")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument(
        "--table",
        choices=("findings", "weeks"),
        default="findings",
        help="csv only: every finding with who opened and closed it, or the weekly totals",
    )
    parser.add_argument(
        "--database-url", metavar="URL", help="the App's store (default: $DATABASE_URL)"
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot import store
    from bot.ledger import figures

    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        raise UsageError(f"--repo takes OWNER/NAME, not {args.repo!r}")
    sessions = open_store(args.database_url)
    try:
        with sessions() as session:
            commits = store.ledger_commits(session, args.repo)
            rows = store.ledger_rows(session, args.repo)
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot read the store: {exc.__class__.__name__}") from None
    if not commits:
        raise UsageError(
            f"the store has no ledger of {args.repo!r} yet (it is recorded when the App is "
            "installed on the repository and on each push to its default branch)"
        )
    out = out or sys.stdout
    now = datetime.now(UTC)
    summary = figures.repository_figures(args.repo, commits, rows, now)
    if args.format == "json":
        json.dump(figures.repository_json(summary), out, indent=2)
        out.write("\n")
        return 0
    writer = csv.writer(out, lineterminator="\n")
    if args.table == "weeks":
        writer.writerow(WEEK_COLUMNS)
        for point in summary.weeks:
            # Before the first analysis the debt was not measured: no figure, not a zero.
            held = point.open_total if point.known else ""
            writer.writerow((point.week, held, point.added, point.paid_off))
        return 0
    by_id = {commit.id: commit for commit in commits}
    writer.writerow(FINDING_COLUMNS)
    for row in rows:
        opened = by_id[row.opened_id]
        closed = by_id.get(row.closed_id) if row.closed_id is not None else None
        writer.writerow(
            (
                "open" if closed is None else "paid off",
                row.code, row.principle, row.severity, row.path, row.line, row.end_line,
                row.message, row.fingerprint,
                opened.sha, opened.recorded_at.isoformat(), opened.pull_number or "",
                closed.sha if closed else "", closed.recorded_at.isoformat() if closed else "",
                (closed.pull_number or "") if closed else "",
            )
        )  # fmt: skip
    return 0


def open_store(url: str | None):
    """Sessions on the App's store (see :func:`checked_url`)."""
    from bot import store

    url, _ = checked_url(url)
    return store.make_session_factory(store.make_engine(url))


def checked_url(url: str | None):
    """The store's URL (default: $DATABASE_URL) and its parts, refusing a URL that is not one
    or a SQLite file that is not there (opening it would create an empty store and report
    nothing)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from bot import store

    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(store.database_url(url))
    except SQLAlchemyError:
        raise UsageError(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise UsageError(f"no store at {parsed.database or url}; pass --database-url")
    return url, parsed
