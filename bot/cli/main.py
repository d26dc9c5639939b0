"""``debtbot``: check files, check a change, list and explain rules, print or post a weekly summary.

Exit status follows ruff: 0 nothing found, 1 findings, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from bot.cli import output
from bot.github import localgit as gitdiff
from rules.catalogue import all_rules, rule_markdown, rules_by_code
from rules.engine import factcache
from rules.engine.config import (
    Config,
    ConfigError,
    config_from_pyproject_text,
    default_config,
    load_config,
)
from rules.engine.scanner import (
    CONTEXT_FILES,
    ScanResult,
    Source,
    only_added,
    scan,
    select,
    walk_files,
)
from rules.principles import PRINCIPLES

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DEFAULT_DATABASE_URL = "sqlite:///./debtbot.sqlite3"  # as bot.settings


class UsageError(ValueError):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="debtbot", description="Find machine-learning technical debt in Python code."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_format(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--format", choices=output.FORMATS, default="text")
        sub.add_argument(
            "--no-progress", action="store_true", help="never show a progress bar on stderr"
        )
        sub.add_argument(
            "--no-cache",
            action="store_true",
            help="summarise every file afresh instead of reusing what earlier runs learnt "
            "(kept in $DEBTBOT_CACHE_DIR, default ~/.cache/debtbot)",
        )

    check = commands.add_parser("check", help="analyse whole files")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    with_format(check)

    diff = commands.add_parser(
        "diff", help="report only findings on lines added or changed since the merge base"
    )
    diff.add_argument("--base", help="base revision (default: the default branch)")
    diff.add_argument("--head", help="head revision (default: the working tree)")
    diff.add_argument("--repo", default=".", help="a folder inside the repository")
    with_format(diff)

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

    serve = commands.add_parser("serve", help="run the GitHub App (webhooks, worker, pages)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _progress(enabled: bool, total: int):
    """A bar on stderr, shown only on a terminal and only when the scan takes a moment."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def wrap(sources: Iterable[Source]) -> Iterator[Source]:
        return iter(
            tqdm(sources, total=total, unit="file", delay=0.5, file=sys.stderr, leave=False)
        )

    return wrap


def run_check(
    paths: Sequence[str], show_progress: bool = True, facts_cache: Path | None = None
) -> tuple[ScanResult, Path]:
    targets = [Path(p) for p in paths]
    for target in targets:
        if not target.exists():
            raise UsageError(f"{target}: no such file or directory")
    config, root = load_config(targets[0])
    everything = walk_files(root, config)
    wanted: list[str] = []
    for target in targets:
        absolute = target.resolve()
        try:
            relative = absolute.relative_to(root).as_posix()
        except ValueError:
            raise UsageError(f"{target} is outside the project at {root}") from None
        if absolute.is_dir():
            prefix = "" if relative == "." else relative + "/"
            wanted.extend(p for p in everything if p.startswith(prefix))
        else:
            wanted.append(relative)  # a file named explicitly is analysed even if excluded
    chosen = [p for p in dict.fromkeys(wanted) if any(r.applies_to(p) for r in config.rules())]
    sources = [(p, (root / p).read_bytes) for p in chosen]
    progress = _progress(show_progress, len(sources))
    context = [(p, (root / p).read_bytes) for p in everything if p.endswith(CONTEXT_FILES)]
    result = scan(
        sources, config, frozenset(everything), progress, context, facts_cache=facts_cache
    )
    return result, root


def run_diff(
    repo_path: str,
    base: str | None,
    head: str | None,
    show_progress: bool = True,
    facts_cache: Path | None = None,
) -> tuple[ScanResult, Path]:
    repo = gitdiff.open_repo(Path(repo_path))
    root = Path(repo.working_tree_dir)
    change = gitdiff.change(repo, base or gitdiff.default_base(repo), head)
    config = _config_at(repo, change.head, root)
    files = gitdiff.files_at(repo, change.head)
    chosen = select((p for p in change.added if p in files), config)
    sources = [(p, _reader(repo, change.head, p)) for p in chosen]
    context = [
        (p, _reader(repo, change.head, p)) for p in sorted(files) if p.endswith(CONTEXT_FILES)
    ]
    progress = _progress(show_progress, len(sources))
    result = scan(sources, config, files, progress, context, change.added, facts_cache)
    result.findings = only_added(result.findings, change.added)
    return result, root


def _reader(repo, head: str | None, path: str):
    return lambda: gitdiff.read_at(repo, head, path)


def _config_at(repo, head: str | None, root: Path) -> Config:
    try:
        text = gitdiff.read_at(repo, head, "pyproject.toml").decode("utf-8")
    except OSError:
        return default_config()
    try:
        return config_from_pyproject_text(text)
    except ConfigError as exc:
        raise ConfigError(f"{root / 'pyproject.toml'}: {exc}") from None


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
    return "" if rule.default_enabled else "off by default"


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

    from sqlalchemy.engine import make_url
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
    url = url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        parsed = make_url(store.database_url(url))
    except SQLAlchemyError:
        raise UsageError(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        # Opening a missing SQLite file would create an empty store and print an empty summary.
        raise UsageError(f"no store at {parsed.database or url}; pass --database-url")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)  # exits with 2 on usage errors
    talks_to_others = args.command == "serve" or getattr(args, "post", False)
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
        if args.command == "serve":
            from bot.app.server import serve  # the App's dependencies load only when serving

            return serve(args.host, args.port)
        facts_cache = None if args.no_cache else factcache.default_file()
        if args.command == "check":
            result, root = run_check(args.paths, not args.no_progress, facts_cache)
        else:
            result, root = run_diff(
                args.repo, args.base, args.head, not args.no_progress, facts_cache
            )
    except (UsageError, ConfigError, gitdiff.DiffError) as exc:
        print(f"debtbot: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    rendered = output.render(result, args.format, root, sys.stdout.isatty())
    if rendered:
        print(rendered)
    return EXIT_FINDINGS if result.findings else EXIT_CLEAN


if __name__ == "__main__":
    sys.exit(main())
