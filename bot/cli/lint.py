"""``debtbot check`` and ``debtbot diff``, from the parsed arguments to the exit status.

analyse -> fix (``--fix``, or ``--diff`` to only show it) -> compare with the baseline ->
add ignore comments -> report. Exit status as ruff's: 0 nothing (new) found or ``--exit-zero``,
1 findings, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from bot.cli import baseline, fixes, ignores, output
from bot.cli.change import run_diff
from bot.cli.errors import UsageError
from bot.cli.files import write_atomically
from bot.cli.scanning import Analysed
from bot.cli.targets import STDIN, Options, run_check
from rules.engine import factcache
from rules.engine.config import Selection
from rules.engine.scanner import forget
from rules.finding import Finding

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
MAX_FIX_PASSES = 10  # a fix may reveal another; ruff stops after a bounded number of passes too


def add_arguments(sub: argparse.ArgumentParser) -> None:
    """The options ``check`` and ``diff`` share, spelled as ruff spells them."""
    sub.add_argument(
        "--format", "--output-format", dest="format", choices=output.FORMATS, default="text"
    )
    selectors = "codes, code prefixes or principle slugs, comma-separated, as in [tool.debtbot]"
    sub.add_argument(
        "--select", action="append", metavar="CODES", help=f"only these rules ({selectors})"
    )
    sub.add_argument("--ignore", action="append", metavar="CODES", help="leave these rules out")
    sub.add_argument(
        "--extend-select", action="append", metavar="CODES", help="these rules as well"
    )
    sub.add_argument(
        "--config",
        metavar="PATH",
        help="a pyproject.toml or debtbot.toml to use for every file instead of looking one up",
    )
    sub.add_argument(
        "--statistics", action="store_true", help="print the number of findings per rule"
    )
    sub.add_argument(
        "--exit-zero", action="store_true", help="exit with status 0 even when debt is found"
    )
    sub.add_argument(
        "--baseline",
        metavar="FILE",
        help="report only findings not in FILE; `check` writes FILE with today's findings "
        "when it does not exist",
    )
    sub.add_argument(
        "--fix", action="store_true", help="apply the fixes rules offer, then report what is left"
    )
    sub.add_argument(
        "--diff", action="store_true", help="print the fixes as a diff and change nothing"
    )
    sub.add_argument(
        "--add-ignore",
        action="store_true",
        help="add `# debt: ignore[CODE]` comments for the findings, on their lines",
    )
    sub.add_argument(
        "--no-progress", action="store_true", help="never show a progress bar on stderr"
    )
    sub.add_argument(
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes analysing files at once (default: the number of cores); the findings "
        "and their order are the same whatever N",
    )
    sub.add_argument(
        "--no-cache",
        action="store_true",
        help="summarise every file afresh instead of reusing what earlier runs learnt "
        "(kept in $DEBTBOT_CACHE_DIR, default ~/.cache/debtbot)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    _check_flags(args)
    options = _options(args)
    analyse = _analyser(args)
    analysed = analyse(options)
    root = analysed.root
    read, write = _files(root, analysed.stdin_path, options)

    if args.diff:
        return _show_fixes(analysed, read)
    if args.fix:
        analysed, options = _fix(analysed, analyse, options, read, write)
        read, write = _files(root, analysed.stdin_path, options)

    said, reported, entries = "", analysed.result.findings, None
    if args.baseline:
        entries, said = _baseline(args, analysed)  # None: written just now, with every finding
        if entries is None:
            reported = []
        else:
            said, reported = _compare(args, entries, analysed)
    if args.add_ignore:
        analysed = _add_ignores(reported, analyse, options, read, write, root) or analysed
        if entries is not None:
            said, reported = _compare(args, entries, analysed)
        elif not args.baseline:
            reported = analysed.result.findings
    if said:
        print(f"debtbot: {said}", file=sys.stderr)

    stream = sys.stdout
    if args.fix and options.stdin is not None:
        # As ruff: the fixed code goes to stdout, the findings left to stderr.
        sys.stdout.flush()
        sys.stdout.buffer.write(options.stdin)
        sys.stdout.buffer.flush()
        stream = sys.stderr
    _report(args, analysed, reported, stream)
    if args.exit_zero or not reported:
        return EXIT_CLEAN
    return EXIT_FINDINGS


def _check_flags(args: argparse.Namespace) -> None:
    if args.add_ignore and (args.fix or args.diff):
        raise UsageError("--add-ignore cannot be combined with --fix or --diff")
    if args.statistics and args.format not in output.STATISTICS_FORMATS:
        raise UsageError(f"--statistics prints text or json, not {args.format}")
    if args.command == "diff" and args.head and (args.fix or args.diff or args.add_ignore):
        raise UsageError("--fix, --diff and --add-ignore change the working tree: leave out --head")


def _codes(values: list[str] | None) -> tuple[str, ...]:
    return tuple(c.strip() for value in values or () for c in value.split(",") if c.strip())


def _options(args: argparse.Namespace) -> Options:
    selection = Selection(
        select=None if args.select is None else _codes(args.select),
        ignore=_codes(args.ignore),
        extend_select=_codes(args.extend_select),
    )
    stdin = None
    stdin_filename = getattr(args, "stdin_filename", None)
    if args.command == "check":
        paths = args.paths or ([] if stdin_filename else ["."])
        if STDIN in paths or not paths:
            if paths not in ([], [STDIN]):
                raise UsageError("- (the code on stdin) cannot be checked with other paths")
            if args.add_ignore:
                raise UsageError("--add-ignore writes files; it cannot take code on stdin")
            stdin = sys.stdin.buffer.read()
        elif stdin_filename:
            raise UsageError("--stdin-filename names the code on stdin: pass - as the path")
        args.paths = paths
    if args.no_cache:
        forget()  # what a daemon keeps in memory was learnt by earlier runs too
    return Options(
        selection=selection,
        config_file=Path(args.config) if args.config else None,
        show_progress=not args.no_progress,
        facts_cache=None if args.no_cache else factcache.default_file(),
        stdin=stdin,
        stdin_filename=stdin_filename,
        jobs=args.jobs,
    )


def _analyser(args: argparse.Namespace) -> Callable[[Options], Analysed]:
    if args.command == "check":
        return lambda options: run_check(args.paths, options)
    return lambda options: run_diff(args.repo, args.base, args.head, options, args.limit)


def _files(root: Path, stdin_path: str | None, options: Options):
    """How the fixing flags read and write a finding's file: on disk, or the code on stdin."""

    def read(path: str) -> bytes:
        if path == stdin_path and options.stdin is not None:
            return options.stdin
        return (root / path).read_bytes()

    def write(path: str, data: bytes) -> None:
        write_atomically(root / path, data)

    return read, write


def _show_fixes(analysed: Analysed, read) -> int:
    """``--diff``: the fixes as a unified diff; status 1 when there is something to fix."""
    plan = fixes.plan(analysed.result.findings, read)
    _say_refused(plan)
    diff = fixes.unified_diff(plan, lambda p: output.display_path(p, analysed.root))
    if diff:
        sys.stdout.write(diff)
        files = len(plan.after)
        print(
            f"debtbot: would fix {_count(plan.applied, 'finding')} in {_count(files, 'file')}",
            file=sys.stderr,
        )
        return EXIT_FINDINGS
    print("debtbot: nothing to fix", file=sys.stderr)
    return EXIT_CLEAN


def _fix(analysed: Analysed, analyse, options: Options, read, write):
    """``--fix``: apply, write, analyse again, until nothing more can be fixed."""
    fixed, written, refused = 0, set(), set()
    for _ in range(MAX_FIX_PASSES):
        plan = fixes.plan(analysed.result.findings, read)
        _say_refused(plan, refused)
        if not plan.after:
            break
        for path, data in plan.after.items():
            if path == analysed.stdin_path and options.stdin is not None:
                options = replace(options, stdin=data)
            else:
                _write(write, path, data, analysed.root, written)
            written.add(path)
        fixed += plan.applied
        read, _ = _files(analysed.root, analysed.stdin_path, options)
        analysed = analyse(options)
    left = len(analysed.result.findings)
    print(
        f"debtbot: fixed {_count(fixed, 'finding')} in {_count(len(written), 'file')}; "
        f"{_count(left, 'finding')} left",
        file=sys.stderr,
    )
    return analysed, options


def _write(write, path: str, data: bytes, root: Path, written: set[str]) -> None:
    try:
        write(path, data)
    except OSError as exc:
        said = f"cannot write {output.display_path(path, root)} ({exc.strerror or exc}); "
        said += "it is unchanged"
        if written - {path}:
            said += f" ({_count(len(written - {path}), 'other file')} fixed before it)"
        raise UsageError(said) from None


def _say_refused(plan: fixes.Plan, said: set[str] | None = None) -> None:
    said = set() if said is None else said
    for path, why in plan.refused:
        if path not in said:
            print(f"debtbot: not fixed: {path}: {why}", file=sys.stderr)
            said.add(path)


def _baseline(args, analysed: Analysed) -> tuple[list[baseline.Entry] | None, str]:
    """The baseline's entries; None, and what was done, when it was written just now."""
    path = Path(args.baseline)
    try:
        entries = baseline.read(path)
        if entries is not None:
            return entries, ""
        if args.command == "diff":
            raise UsageError(
                f"{path}: no such baseline; write one with `debtbot check --baseline {path}`"
            )
        count = baseline.write(path, analysed.result.findings, analysed.root)
    except baseline.BaselineError as exc:
        raise UsageError(str(exc)) from None
    said = (
        f"wrote {path} with {_count(count, 'finding')}; from now on only findings not in it "
        "are reported"
    )
    return None, said


def _compare(args, entries, analysed: Analysed) -> tuple[str, list[Finding]]:
    path = Path(args.baseline)
    comparison = baseline.compare(
        entries, analysed.result.findings, analysed.root, analysed.analysed, path
    )
    said = (
        f"{path}: {_count(comparison.matched, 'finding')} matched the baseline, "
        f"{comparison.gone} gone, {len(comparison.new)} new"
    )
    if comparison.gone:
        said += f" (to drop the gone ones, delete {path} and run again)"
    return said, comparison.new


def _add_ignores(
    reported: list[Finding], analyse, options: Options, read, write, root: Path
) -> Analysed | None:
    """``--add-ignore``: comments on the findings' lines; then the analysis again, to report
    what is left (the findings no comment could go to). None when there was nothing to do."""
    if not reported:
        print("debtbot: no findings, so no ignores to add", file=sys.stderr)
        return None
    plan = ignores.plan(reported, read)
    written: set[str] = set()
    for path, data in plan.after.items():
        _write(write, path, data, root, written)
        written.add(path)
    print(
        f"debtbot: added ignores to {_count(plan.lines, 'line')} in "
        f"{_count(len(plan.after), 'file')}",
        file=sys.stderr,
    )
    analysed = analyse(options)
    for finding, why in plan.unplaced:
        shown = output.display_path(finding.path, analysed.root)
        print(
            f"debtbot: no ignore added for {shown}:{finding.line} {finding.code}: {why}",
            file=sys.stderr,
        )
    return analysed


def _report(args, analysed: Analysed, reported: list[Finding], stream) -> None:
    result = analysed.result
    result.findings = reported
    if args.statistics:
        table = output.statistics(reported, args.format)
        if table:
            print(table, file=stream)
    elif analysed.nothing_to_compare and args.format == "text":
        print(analysed.nothing_to_compare, file=stream)
    else:
        rendered = output.render(result, args.format, analysed.root, output.use_colour(stream))
        if rendered:
            print(rendered, file=stream)
    if analysed.nothing_to_compare and (args.format != "text" or args.statistics):
        print(f"debtbot: {analysed.nothing_to_compare}", file=sys.stderr)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
