"""The engine over files grouped by the configuration that governs each, one result for all.

A monorepo's sub-projects each have their own ``[tool.debtbot]``, so the engine runs once per
configuration; every run sees the whole repository as context, as the App does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from rules.engine.config import Config
from rules.engine.scanner import ScanResult, Source
from rules.engine.scanner import scan_groups as engine_scan_groups

Reader = Callable[[str], Callable[[], bytes]]  # a repository-relative path -> how to read it


@dataclass
class Analysed:
    """What a check or a diff found, and where."""

    result: ScanResult
    root: Path  # the result's paths are relative to it
    analysed: frozenset[str]  # the files read, relative to root
    stdin_path: str | None = None  # the path of the code given on stdin, in the result
    # Why a diff had nothing to look at (its base and head are one commit), said plainly.
    nothing_to_compare: str | None = None


def progress_bar(enabled: bool, total: int):
    """A bar on stderr, shown only on a terminal and only when the scan takes a moment."""
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    def wrap(sources: Iterable[Source]) -> Iterator[Source]:
        return iter(
            tqdm(sources, total=total, unit="file", delay=0.5, file=sys.stderr, leave=False)
        )

    return wrap


def scan_groups(
    groups: Sequence[tuple[Config, list[str]]],
    reader: Reader,
    files: frozenset[str],
    show_progress: bool,
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache=None,
    read_base=None,
    jobs: int = 1,
) -> ScanResult:
    return engine_scan_groups(
        groups, reader, files, added, facts_cache, partial(progress_bar, show_progress), read_base,
        jobs,
    )  # fmt: skip


def rebased(result: ScanResult, prefix: str) -> ScanResult:
    """The result with every path under ``prefix``: paths of several repositories shown from
    one root. Fingerprints are left as the repository made them, so they stay stable."""
    if not prefix:
        return result
    return ScanResult(
        findings=[replace(f, path=prefix + f.path) for f in result.findings],
        skipped=[replace(s, path=prefix + s.path) for s in result.skipped],
        files=result.files,
        lines=result.lines,
        seconds=result.seconds,
    )
