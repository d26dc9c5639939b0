"""What ``debtbot diff`` analyses: the files a change touched, as they are at its head, each
under the configuration that governs it there (as the App reviews a pull request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from bot.cli import scanning
from bot.cli.errors import UsageError
from bot.cli.targets import Options
from bot.github import localgit as gitdiff
from rules.engine.config import config_from_file, disk_reader, group_by_config
from rules.engine.scanner import (
    Blob,
    base_groups,
    brought_by_change,
    codes_by_path,
    only_added,
    select,
)


def run_diff(
    repo_path: str,
    base: str | None,
    head: str | None,
    options: Options,
    limit: Sequence[str] = (),
):
    repo = gitdiff.open_repo(Path(repo_path))
    root = Path(repo.working_tree_dir)
    base = base or gitdiff.default_base(repo)
    change = gitdiff.change(repo, base, head)
    files = gitdiff.files_at(repo, change.head)
    touched = [p for p in change.added if p in files and _within(p, _limits(root, limit))]
    if options.config_file is not None:
        config = config_from_file(options.config_file, options.selection)
        # As ruff: the patterns of a configuration named with --config are rooted at the
        # current folder.
        where, top = Path.cwd().resolve(), root.resolve()
        folder = where.relative_to(top).as_posix() if where.is_relative_to(top) else ""
        groups = [(replace(config, folder="" if folder == "." else folder), touched)]
    else:
        read = _config_reader(repo, root, change.head)
        groups = group_by_config(touched, read, options.selection)
    groups = [(config, select(paths, config)) for config, paths in groups]

    reader = _reader(repo, change.head)
    result = scanning.scan_groups(
        groups,
        reader,
        files,
        options.show_progress,
        change.added,
        options.facts_cache,
        _base_reader(repo, change.base),
        options.jobs,
    )
    result.findings = only_added(result.findings, change.added)
    result.findings = _brought_by_change(repo, change.base, groups, result.findings, options)
    analysed = frozenset(p for _, paths in groups for p in paths)
    return scanning.Analysed(
        result, root, analysed, nothing_to_compare=_nothing_to_compare(repo, base, head, change)
    )


def _brought_by_change(repo, base: str, groups, findings, options: Options):
    """The findings without those the base already had in the same file and those most files of
    the same kind already had (see :func:`rules.engine.brought_by_change`). Only the files with a
    finding and the files of their kinds are analysed, as they are at the base, under the same
    configuration."""
    base_files = gitdiff.files_at(repo, base)
    before, kinds = base_groups(groups, codes_by_path(findings), base_files)
    if not before:
        return findings
    found = scanning.scan_groups(
        before, _reader(repo, base), base_files, False, None, options.facts_cache, jobs=options.jobs
    )
    return brought_by_change(findings, found.findings, kinds)


def _reader(repo, revision: str | None):
    """How to read a file at ``revision`` (None: the working tree). At a commit, files are
    read by blob id, and only when needed: the facts cache knows most by their id alone."""
    if revision is None:
        return lambda path: partial(gitdiff.read_at, repo, None, path)
    tree = gitdiff.tree_at(gitdiff.git_command(repo), revision)
    blobs = gitdiff.blobs(repo)

    def reader(path: str):
        if path in tree:
            return Blob(tree[path], blobs)
        return partial(gitdiff.read_at, repo, revision, path)

    return reader


def _base_reader(repo, base: str):
    """A file's text as it is at the base, None when it is not there (for the change rules
    that compare with the base)."""
    present = gitdiff.files_at(repo, base)

    def read(path: str) -> str | None:
        if path not in present:
            return None
        return gitdiff.read_at(repo, base, path).decode("utf-8-sig", errors="replace")

    return read


def _limits(root: Path, paths: Sequence[str]) -> tuple[str, ...] | None:
    """The paths given on the command line (relative to the current folder) as the
    repository's POSIX paths; None for no limit."""
    if not paths:
        return None
    top = root.resolve()
    limits = []
    for path in paths:
        where = (Path.cwd() / path).resolve()
        if not where.is_relative_to(top):
            raise UsageError(f"{path} is outside the repository at {root}")
        limits.append("" if where == top else where.relative_to(top).as_posix())
    return tuple(limits)


def _within(path: str, limits: tuple[str, ...] | None) -> bool:
    if limits is None:
        return True
    return any(not limit or path == limit or path.startswith(limit + "/") for limit in limits)


def _config_reader(repo, root: Path, head: str | None):
    """pyproject.toml files as they are at the head (the working tree when None)."""
    if head is None:
        return lambda path: disk_reader((root / path).as_posix())

    def read(path: str) -> bytes | None:
        try:
            return gitdiff.read_at(repo, head, path)
        except OSError:
            return None  # not at that commit

    return read


def _nothing_to_compare(repo, base: str, head: str | None, change: gitdiff.Change) -> str | None:
    """Why there is no change at all, when the head is the merge base and adds nothing: a
    clone with its default branch checked out, say. None when there is a change."""
    head_sha = change.head or gitdiff.resolve(repo, "HEAD")
    if change.base != head_sha or change.added:
        return None
    named = head or "HEAD"
    if gitdiff.resolve(repo, base) == head_sha:
        said = f"{base} and {named} are the same commit ({head_sha[:12]})"
    else:
        said = f"{named} ({head_sha[:12]}) is already part of {base}"
    if head is None:
        said += " and the working tree changes no line"
    return (
        f"{said}: there is no change to look at. Pass --base with an earlier revision, or "
        "run `debtbot check` for whole files."
    )
