"""What the engine finds at a commit of a repository's mirror, under that commit's configuration.

Shared by the review of a push and the report a command asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from pathlib import Path

from bot.github import mirror as gitmirror
from rules.engine import (
    CONTEXT_FILES,
    Config,
    ConfigError,
    ScanResult,
    config_from_pyproject_text,
    default_config,
    scan,
    select,
)


def config_at(mirror: Path, sha: str) -> Config:
    """``[tool.debtbot]`` (with its ``review`` table) from ``pyproject.toml`` at ``sha``."""
    try:
        data = gitmirror.read_file(mirror, sha, "pyproject.toml")
    except FileNotFoundError:
        return default_config()
    try:
        return config_from_pyproject_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("pyproject.toml is not UTF-8 text") from None


def analyse_at(
    mirror: Path,
    sha: str,
    config: Config,
    paths: Iterable[str],
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache: Path | None = None,
) -> ScanResult:
    """Run the engine on ``paths`` as they are at ``sha`` (those gone from it are left out)."""
    files = gitmirror.list_files(mirror, sha)
    chosen = select(sorted(p for p in set(paths) if p in files), config)
    sources = [(path, partial(gitmirror.read_file, mirror, sha, path)) for path in chosen]
    # Read only when a repository rule is selected: what the rest of the code base holds.
    context = [
        (path, partial(gitmirror.read_file, mirror, sha, path))
        for path in sorted(files)
        if path.endswith(CONTEXT_FILES)
    ]
    return scan(sources, config, files, context=context, added=added, facts_cache=facts_cache)
