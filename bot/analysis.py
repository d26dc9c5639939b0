"""What the engine finds at a commit of a repository's mirror, under that commit's configuration.

Shared by the review of a push and the report a command asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

from bot.github import mirror as gitmirror
from rules.engine import (
    Blob,
    Config,
    ConfigError,
    ScanResult,
    config_from_pyproject_text,
    default_config,
    group_by_config,
    scan_groups,
    select,
)


def config_at(mirror: Path, sha: str) -> Config:
    """``[tool.debtbot]`` (with its ``review`` table) from the root ``pyproject.toml`` at
    ``sha``: how the pull request is reviewed. What each file is analysed under can be a
    sub-project's table (see :func:`configs_at`)."""
    try:
        data = gitmirror.read_file(mirror, sha, "pyproject.toml")
    except FileNotFoundError:
        return default_config()
    try:
        return config_from_pyproject_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("pyproject.toml is not UTF-8 text") from None


def configs_at(mirror: Path, sha: str, paths: Iterable[str]) -> list[tuple[Config, list[str]]]:
    """``paths`` (present at ``sha``) grouped by the configuration governing each there, as the
    command line groups them: the closest ``pyproject.toml`` with ``[tool.debtbot]`` at or above
    a file's folder, so a sub-project's table governs it. Each group lists only the paths its
    configuration selects."""

    def read(path: str) -> bytes | None:
        try:
            return gitmirror.read_file(mirror, sha, path)
        except FileNotFoundError:
            return None

    return [(config, select(group, config)) for config, group in group_by_config(paths, read)]


def analyse_at(
    mirror: Path,
    sha: str,
    paths: Iterable[str],
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache: Path | None = None,
    base: str | None = None,
) -> ScanResult:
    """Run the engine on ``paths`` as they are at ``sha`` (those gone from it are left out),
    each under the configuration that governs it there (see :func:`configs_at`). ``base`` is
    the change's base commit, for the change rules that compare a file with it."""
    files = gitmirror.list_files(mirror, sha)
    present = sorted(p for p in set(paths) if p in files)
    # Files are read by blob id, many through one git process, and only when needed: the facts
    # cache knows the files summarised as context by their id alone.
    tree, blobs = gitmirror.blobs_at(mirror, sha)

    def reader(path: str):
        if path in tree:
            return Blob(tree[path], blobs)
        return partial(gitmirror.read_file, mirror, sha, path)

    groups = configs_at(mirror, sha, present)
    return scan_groups(
        groups, reader, files, added, facts_cache, read_base=_base_reader(mirror, base)
    )


def _base_reader(mirror: Path, base: str | None):
    """A file's text at ``base``, None when it is not there; None without a base."""
    if base is None:
        return None
    present = gitmirror.list_files(mirror, base)

    def read(path: str) -> str | None:
        if path not in present:
            return None
        return gitmirror.read_file(mirror, base, path).decode("utf-8-sig", errors="replace")

    return read
