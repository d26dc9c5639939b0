"""What ``debtbot check`` analyses: the files below each path given, or the code given on stdin.

Each path is analysed in its repository (the folder holding ``.git``; without git, the folder
of its configuration), so that a check and a diff, here or in the App, see the same paths and
fingerprints. Each file is governed by the closest pyproject.toml that has ``[tool.debtbot]``.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bot.cli import scanning
from bot.cli.errors import UsageError
from rules.engine.config import (
    NO_SELECTION,
    Config,
    Found,
    Selection,
    config_from_file,
    disk_reader,
    find_config,
)
from rules.engine.scanner import ScanResult, merge, walk_files

STDIN = "-"  # the path that stands for the code given on stdin
_STDIN_NAME = "stdin.py"  # what that code is analysed as when no --stdin-filename names it


@dataclass(frozen=True)
class Options:
    selection: Selection = NO_SELECTION
    config_file: Path | None = None  # --config: one configuration for every file
    show_progress: bool = True
    facts_cache: Path | None = None
    stdin: bytes | None = None  # the code given on stdin
    stdin_filename: str | None = None  # where that code would live
    jobs: int = 1  # processes analysing files at once


def run_check(paths: Sequence[str], options: Options) -> scanning.Analysed:
    cwd = Path.cwd()
    if options.stdin is not None:
        targets = [(cwd / (options.stdin_filename or _STDIN_NAME)).resolve()]
    else:
        targets = []
        for given in paths:
            if not Path(given).exists():
                raise UsageError(f"{given}: no such file or directory")
            targets.append(Path(given).resolve())
    projects: dict[Path, tuple[bool, list[Path]]] = {}
    for target in targets:
        top, in_git = _project_of(target, cwd)
        projects.setdefault(top, (in_git, []))[1].append(target)
    root = Path(os.path.commonpath(list(projects)))
    total = ScanResult()
    analysed: set[str] = set()
    stdin_path = None
    for top, (in_git, targets_here) in projects.items():
        prefix = _prefix(top, root)
        result, chosen = _check_project(top, in_git, targets_here, options, cwd)
        merge(total, scanning.rebased(result, prefix))
        analysed.update(prefix + p for p in chosen)
        if options.stdin is not None:
            stdin_path = prefix + targets_here[0].relative_to(top).as_posix()
    if stdin_path is not None and options.stdin_filename is None:
        total = _renamed(total, stdin_path, STDIN)
        analysed = {STDIN if p == stdin_path else p for p in analysed}
        stdin_path = STDIN
    return scanning.Analysed(total, root, frozenset(analysed), stdin_path)


def _project_of(target: Path, cwd: Path) -> tuple[Path, bool]:
    """The folder whose paths the engine sees for ``target``, and whether it is a repository."""
    folder = target if target.is_dir() else target.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate, True
    found = find_config((folder / "-").as_posix(), disk_reader)
    if found.pyproject is not None:
        return Path(found.pyproject).parent, False
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate, False
    return (cwd if folder.is_relative_to(cwd) else folder), False


def _check_project(
    top: Path, in_git: bool, targets: list[Path], options: Options, cwd: Path
) -> tuple[ScanResult, list[str]]:
    config_of = _configurations(top, in_git, options, cwd)
    everything = walk_files(top, config_of)
    wanted: list[str] = []
    for target in targets:
        relative = target.relative_to(top).as_posix()
        if options.stdin is None and target.is_dir():
            prefix = "" if relative == "." else relative + "/"
            wanted.extend(p for p in everything if p.startswith(prefix))
        else:
            wanted.append(relative)  # a file named explicitly is analysed even if excluded
    chosen = [
        p for p in dict.fromkeys(wanted) if any(r.applies_to(p) for r in config_of(p).rules())
    ]
    groups: dict[int, tuple[Config, list[str]]] = {}
    for path in chosen:
        config = config_of(path)
        groups.setdefault(id(config), (config, []))[1].append(path)
    files = frozenset(everything)
    read = _reader(top)
    if options.stdin is not None:
        stdin_at, stdin = targets[0].relative_to(top).as_posix(), options.stdin
        files |= {stdin_at}
        read = _with_stdin(read, stdin_at, stdin)
    result = scanning.scan_groups(
        list(groups.values()),
        read,
        files,
        options.show_progress,
        facts_cache=options.facts_cache,
        jobs=options.jobs,
    )
    return result, chosen


def _configurations(
    top: Path, in_git: bool, options: Options, cwd: Path
) -> Callable[[str], Config]:
    """The configuration of a path relative to ``top``, its patterns rooted relative to it."""
    if options.config_file is not None:
        # As ruff: the patterns of a configuration named with --config are rooted at the
        # current folder.
        where = cwd.resolve()
        folder = where.relative_to(top).as_posix() if where.is_relative_to(top) else ""
        config = replace(
            config_from_file(options.config_file, options.selection),
            folder="" if folder == "." else folder,
        )
        return lambda _path: config
    known: dict[str, Found] = {}
    rooted: dict[str | None, Config] = {}
    stop = top.as_posix() if in_git else ""  # a repository's configuration is inside it

    def config_of(path: str) -> Config:
        found = find_config((top / path).as_posix(), disk_reader, options.selection, known, stop)
        if found.pyproject not in rooted:
            folder = posixpath.relpath(found.config.folder or top.as_posix(), top.as_posix())
            inside = folder != "." and not folder.startswith("..")
            rooted[found.pyproject] = replace(found.config, folder=folder if inside else "")
        return rooted[found.pyproject]

    return config_of


def _reader(top: Path) -> scanning.Reader:
    return lambda path: (top / path).read_bytes


def _with_stdin(read: scanning.Reader, at: str, data: bytes) -> scanning.Reader:
    return lambda path: (lambda: data) if path == at else read(path)


def _prefix(top: Path, root: Path) -> str:
    relative = top.relative_to(root).as_posix()
    return "" if relative == "." else relative + "/"


def _renamed(result: ScanResult, old: str, new: str) -> ScanResult:
    return ScanResult(
        findings=[replace(f, path=new) if f.path == old else f for f in result.findings],
        skipped=[replace(s, path=new) if s.path == old else s for s in result.skipped],
        files=result.files,
        lines=result.lines,
        seconds=result.seconds,
    )
