"""``debtbot``: check files, check a change, list and explain rules, print or post a weekly summary,
export a repository's debt ledger.

Exit status follows ruff: 0 nothing found, 1 findings, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import daemon, ledger, lint, output
from bot.cli.daemon import DEFAULT_IDLE_SECONDS
from bot.cli.errors import UsageError
from bot.github import localgit as gitdiff
from rules.catalogue import all_rules, rule_markdown, rules_by_code
from rules.engine.config import ConfigError
from rules.engine.factcache import default_file as facts_cache_file
from rules.principles import PRINCIPLES

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = lint.EXIT_CLEAN, lint.EXIT_FINDINGS, lint.EXIT_ERROR
DEFAULT_DATABASE_URL = ledger.DEFAULT_DATABASE_URL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="debtbot", description="Find machine-learning technical debt in Python code."
    )
    parser.add_argument("--version", action="version", version=f"debtbot {output.tool_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="analyse whole files")
    check.add_argument(
        "paths", nargs="*", metavar="PATH", help="files and folders (default: .); - reads stdin"
    )
    check.add_argument(
        "--stdin-filename", metavar="PATH", help="where the code given on stdin would live"
    )
    lint.add_arguments(check)

    diff = commands.add_parser(
        "diff", help="report only findings on lines added or changed since the merge base"
    )
    diff.add_argument("--base", help="base revision (default: the default branch)")
    diff.add_argument("--head", help="head revision (default: the working tree)")
    diff.add_argument("--repo", default=".", help="a folder inside the repository")
    diff.add_argument(
        "limit",
        nargs="*",
        metavar="PATH",
        help="only the changed files at or below these paths (default: every changed file)",
    )
    lint.add_arguments(diff)

    listing = commands.add_parser("rules", help="list the rules")
    listing.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    explain = commands.add_parser("explain", help="print a rule's documentation")
    explain.add_argument("code", metavar="CODE")

    weekly = commands.add_parser(
        "summary", help="print an account's weekly summary from the App's store, as Markdown"
    )
    weekly.add_argument("--org", required=True, metavar="NAME", help="organisation or user login")
    weekly.add_argument(
        "--week", metavar="YYYY-Www", help="ISO week, like 2026-W48 (default: last week)"
    )
    weekly.add_argument(
        "--database-url", metavar="URL", help="the App's store (default: $DATABASE_URL)"
    )
    weekly.add_argument(
        "--post",
        action="store_true",
        help="also post it as the App would, unless it is posted already (needs the App's "
        "settings in the environment)",
    )

    ledger.add_arguments(
        commands.add_parser(
            "ledger",
            help="print a repository's debt ledger from the App's store, as CSV or JSON",
        )
    )

    database = commands.add_parser("db", help="the App's database schema (migrations)")
    steps = database.add_subparsers(dest="db_command", required=True, metavar="STEP")
    for step, text in (
        ("upgrade", "apply the migrations this version brings (run once before a deploy)"),
        ("current", "print the schema's revision; exit 1 when it is not this version's"),
    ):
        steps.add_parser(step, help=text).add_argument(
            "--database-url", metavar="URL", help="the App's store (default: $DATABASE_URL)"
        )

    serve = commands.add_parser("serve", help="run the GitHub App (webhooks, worker, pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    daemon = commands.add_parser(
        "daemon",
        help="keep the engine warm for check and diff run with DEBTBOT_DAEMON set to its socket",
    )
    daemon.add_argument(
        "--socket",
        type=Path,
        metavar="PATH",
        help="where to listen (default: daemon.sock in the cache folder, $DEBTBOT_CACHE_DIR)",
    )
    daemon.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_SECONDS,
        metavar="SECONDS",
        help=f"stop after this long without a command (default: {DEFAULT_IDLE_SECONDS:.0f})",
    )

    work = commands.add_parser(
        "worker", help="run a Celery worker for the App (needs REDIS_URL; scale out with more)"
    )
    work.add_argument(
        "--concurrency", type=int, metavar="N", help="jobs at once (default: one per core)"
    )
    work.add_argument(
        "--pool",
        choices=("prefork", "threads", "solo"),
        default="prefork",
        help="how jobs run: processes (default), threads, or one at a time in this process",
    )
    work.add_argument(
        "--no-beat",
        dest="beat",
        action="store_false",
        help="do not run the periodic sweep and weekly summaries here (safe to run anywhere)",
    )
    return parser


def _list_rules(fmt: str) -> str:
    catalogue = all_rules()
    if fmt == "json":
        return json.dumps(
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "principle": r.principle,
                    "severity": r.severity,
                    "autofix": r.offers_fix,
                    "default": r.default_enabled,
                    "disabled_because": r.disabled_because or None,
                    "options": dict(r.options),
                }
                for r in catalogue
            ],
            indent=2,
        )
    if fmt == "markdown":
        head = [
            "| code | name | principle | severity | autofix | runs |",
            "|---|---|---|---|---|---|",
        ]
        rows = [
            f"| {r.code} | {r.name} | {r.principle} | {r.severity} | {'yes' * r.offers_fix} "
            f"| {_runs(r)} |"
            for r in catalogue
        ]
        intro = [
            "# The debtbot rules",
            "",
            "Generated by `debtbot rules --format markdown > docs/rules.md`; do not edit by hand.",
            "",
        ]
        docs = (rule_markdown(r, level=2) for r in catalogue)
        return "\n".join([*intro, *head, *rows, "", *docs]).rstrip() + "\n"
    width = max(len(r.name) for r in catalogue)
    principle_width = max(len(r.principle) for r in catalogue)
    return "\n".join(
        f"{r.code:<8} {r.name:<{width}}  {r.principle:<{principle_width}}  {_runs(r)}".rstrip()
        for r in catalogue
    )


def _runs(rule) -> str:
    if rule.default_enabled:
        return ""
    return f"off by default: {rule.disabled_because}" if rule.disabled_because else "off by default"


def _explain(code: str) -> str:
    rule = rules_by_code().get(code.upper()) or next(
        (r for r in all_rules() if r.name == code), None
    )
    if rule is None:
        raise UsageError(f"unknown rule {code!r}; `debtbot rules` lists them")
    principle = PRINCIPLES[rule.principle]
    options = "".join(f"\n  {k} = {v!r}" for k, v in rule.options.items())
    extra = f"\nOptions ([tool.debtbot.rules.{rule.code}]):{options}\n" if options else ""
    return (
        f"{rule.code} {rule.name} ({rule.severity})\n"
        f"Principle: {principle.title} ({principle.slug})\n{extra}\n{rule.doc}\n"
    )


def _summary(account: str, week: str | None, url: str | None, post: bool) -> int:
    """Print the account's summary; with ``post``, post it too, as the App would."""
    # The store's dependencies load only for this command, as for serve.
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.exc import SQLAlchemyError

    from bot import store
    from bot.github.errors import GitHubError
    from bot.services import Services
    from bot.summaries import figures as summary
    from bot.summaries import post as weekly

    try:
        week = week or summary.week_name(*summary.last_complete_week())
        week_end = summary.week_start(*summary.parse_week(week)) + timedelta(days=7)
    except summary.WeekError as exc:
        raise UsageError(str(exc)) from None
    url, parsed = ledger.checked_url(url)
    # Links as the App makes them, when its settings are in the environment.
    public_url = os.environ.get("PUBLIC_URL", "")
    github_url = os.environ.get("GITHUB_URL") or "https://github.com"
    settings = None
    if post:
        if week_end > datetime.now(UTC):
            raise UsageError(f"week {week} is not over yet; only whole weeks are posted")
        settings = _app_settings(url)
        public_url, github_url = settings.public_url, settings.github_url
    engine = store.make_engine(url)
    sessions = store.make_session_factory(engine)
    try:
        with sessions() as session:
            if not store.account_repositories(session, account):
                raise UsageError(f"the store has no repositories of {account!r}")
            installation = store.installation_of(session, account)
        if installation is not None:
            account = installation.account  # as GitHub spells it, whatever case was typed

        def composed() -> str:
            with sessions() as session:
                return weekly.compose(session, account, week, public_url, github_url)[0]

        if settings is None:
            print(composed(), end="")
            return EXIT_CLEAN
        if installation is None:
            raise UsageError(
                f"debtbot has no active installation on {account!r} (never installed, removed or "
                "suspended), so it cannot post there"
            )
        services = Services.from_settings(settings, sessions)
        try:
            outcome = weekly.post_weekly_summary(services, installation.id, account, week)
        except GitHubError as exc:
            print(composed(), end="")
            what = f"GitHub answered {exc.status}" if exc.status else "GitHub did not answer"
            raise UsageError(
                f"{what}, so the summary may not be posted; try again in "
                f"{weekly.CLAIM_LEASE.seconds // 60} minutes (debtbot looks for it before posting)"
            ) from None
        # What was posted, which leaves out repositories the installation no longer sees.
        print(outcome.body or composed(), end="")
        return _report_posting(outcome, account)
    except SQLAlchemyError as exc:
        raise UsageError(f"cannot read the store at {parsed!r}: {exc.__class__.__name__}") from None
    finally:
        engine.dispose()


def _database(step: str, url: str | None) -> int:
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from bot import store

    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        engine = store.make_engine(url)
    except ArgumentError:
        raise UsageError(f"{url!r} is not a database URL") from None
    where = engine.url.render_as_string(hide_password=True)
    try:
        if step == "upgrade":
            before = store.current_revision(engine)
            try:
                store.upgrade_schema(engine)
            except store.SchemaError as problem:
                raise UsageError(str(problem)) from None
            after = store.current_revision(engine)
            said = "already at" if before == after else f"upgraded from {before or 'nothing'} to"
            print(f"{where}: {said} revision {after}")
            return EXIT_CLEAN
        try:
            store.check_schema(engine)
        except store.SchemaError as problem:
            print(problem)
            return EXIT_FINDINGS
        print(f"{where}: at revision {store.current_revision(engine)}, this version's own")
        return EXIT_CLEAN
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise UsageError(f"the database at {where} cannot be used: {reason}") from None
    finally:
        engine.dispose()


def _app_settings(database_url: str):
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings(database_url=database_url)
    except SettingsError as error:
        raise UsageError(f"--post acts as the App and needs its settings: {error}") from None


def _report_posting(outcome, account: str) -> int:
    from bot.summaries.post import CONFIG_PATH, CONFIG_REPOSITORY

    config = f"{account}/{CONFIG_REPOSITORY}/{CONFIG_PATH}"
    said = {
        "posted": f"posted as {outcome.issue_url}",
        "already-posted": f"already posted as {outcome.issue_url}; not posted again",
        "found": f"already posted as {outcome.issue_url}; not posted again",
        "being-posted": "another debtbot process is posting this summary now",
        "not-configured": f"nothing posted: {config} has no [summary] asking for summaries",
        "disabled": f"nothing posted: {config} turns summaries off",
        "config-error": f"nothing posted: {outcome.problem}",
    }
    print(f"debtbot: {said.get(outcome.status, outcome.status)}", file=sys.stderr)
    return EXIT_CLEAN if outcome.status in ("posted", "already-posted", "found") else EXIT_ERROR


# What `pip install 'debtbot[app]'` adds to the command line's own dependencies.
APP_ONLY_MODULES = frozenset(
    {
        "github",
        "alembic",
        "celery",
        "kombu",
        "redis",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "psycopg",
        "pydantic_settings",
        "prometheus_client",
        "pythonjsonlogger",
        "jwt",
        "httpx",
        "dotenv",
    }
)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        # What the imports made lives as long as the process: the garbage collector need not
        # look at it again on each of its passes.
        gc.freeze()
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 on usage errors
    talks_to_others = args.command in ("serve", "worker") or getattr(args, "post", False)
    if not talks_to_others and hasattr(signal, "SIGPIPE") and argv is None:
        # `debtbot explain DEBT301 | head`: stop quietly when the reader goes, as Unix tools do,
        # instead of a BrokenPipeError traceback. Not where sockets are written (the server,
        # posting to GitHub): there a closed peer must be an error, not a silent exit.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        if args.command == "rules":
            print(_list_rules(args.format), end="" if args.format == "markdown" else "\n")
            return EXIT_CLEAN
        if args.command == "explain":
            print(_explain(args.code))
            return EXIT_CLEAN
        if args.command == "summary":
            return _summary(args.org, args.week, args.database_url, args.post)
        if args.command == "ledger":
            return ledger.run(args)
        if args.command == "db":
            return _database(args.db_command, args.database_url)
        if args.command == "serve":
            from bot.app.server import serve  # the App's dependencies load only when serving

            return serve(args.host, args.port)
        if args.command == "daemon":
            where = args.socket or facts_cache_file().with_name("daemon.sock")
            return daemon.serve(where, args.idle_timeout, main)
        if args.command == "worker":
            from bot.app.server import work

            return work(args.concurrency, args.beat, args.pool)
        return lint.run(args)
    except (UsageError, ConfigError, gitdiff.DiffError) as exc:
        print(f"debtbot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] not in APP_ONLY_MODULES:
            raise
        print(
            f"debtbot: error: `debtbot {args.command}` is part of the App, whose dependencies "
            f"this installation lacks ({exc.name}): pip install 'debtbot[app]'",
            file=sys.stderr,
        )
        return EXIT_ERROR
    finally:
        if argv is None:
            # The run's objects die with the process: spare the garbage collector its pass
            # over all of them at exit, a fifth of a warm `debtbot diff` on a large repository.
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
