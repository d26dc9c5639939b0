"""What the engine finds at a commit of a repository's mirror, under that commit's configuration.

Shared by the review of a push, the report a command asks for and the ledger. The App runs these
analyses in processes of their own (:class:`AnalysisProcesses`): its worker threads share one
interpreter, which lets only one of them compute at a time, and the web server answers from it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import ParamSpec, TypeVar

from bot.github import mirror as gitmirror
from rules.engine import (
    Blob,
    Config,
    ConfigError,
    ScanResult,
    base_groups,
    config_from_pyproject_text,
    default_config,
    group_by_config,
    scan_groups,
    select,
    summarise,
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
    groups = configs_at(mirror, sha, present)
    reader, read_base = _reader_at(mirror, sha), _base_reader(mirror, base)
    return scan_groups(groups, reader, files, added, facts_cache, read_base=read_base)


def analyse_base(
    mirror: Path, base: str, wanted: Mapping[str, frozenset[str]], facts_cache: Path | None = None
) -> tuple[ScanResult, dict[str, list[tuple[str, ...]]]]:
    """The engine at a change's ``base``, on what tells which findings the change brought
    (``wanted``: the codes found, by path): those files and the files of their kinds, under the
    rules that found something (see :func:`rules.engine.base_groups`); and the kinds, for
    :func:`rules.engine.brought_by_change`."""
    files = gitmirror.list_files(mirror, base)
    groups, kinds = base_groups(configs_at(mirror, base, sorted(wanted)), wanted, files)
    return scan_groups(groups, _reader_at(mirror, base), files, None, facts_cache), kinds


def _reader_at(mirror: Path, sha: str):
    # Files are read by blob id, many through one git process, and only when needed: the facts
    # cache knows the files summarised as context by their id alone.
    tree, blobs = gitmirror.blobs_at(mirror, sha)

    def reader(path: str):
        if path in tree:
            return Blob(tree[path], blobs)
        return partial(gitmirror.read_file, mirror, sha, path)

    return reader


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


def summarise_at(mirror: Path, sha: str, paths: Iterable[str], facts_cache: Path) -> int:
    """Summarise ``paths`` at ``sha`` for the repository rules and keep their facts in
    ``facts_cache``, ahead of the analysis that reads them as context (see
    :func:`rules.engine.summarise`); how many have facts."""
    tree, blobs = gitmirror.blobs_at(mirror, sha)
    summarised = 0
    for config, group in configs_at(mirror, sha, [p for p in paths if p in tree]):
        summarised += summarise([(p, Blob(tree[p], blobs)) for p in group], config, facts_cache)
    return summarised


Params = ParamSpec("Params")
Result = TypeVar("Result")


class AnalysisError(RuntimeError):
    """The process running an analysis died (killed, out of memory): the job is tried again."""


class AnalysisProcesses:
    """A pool of processes that run analyses for the App's worker threads, one each at a time.

    The processes start from a fork server that has already imported the engine, so a new one
    is ready at once; each keeps the facts it summarised in memory from one job to the next.
    One that dies fails only the analyses it ran (they are retried with the job), and the pool
    is started anew for the next.
    """

    def __init__(self, processes: int):
        self._processes = processes
        self._lock = threading.Lock()
        self._stopped = False
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.analysis"])
        return ProcessPoolExecutor(self._processes, context, initializer=_started)

    def run(self, work: Callable[Params, Result], *args: Params.args, **kwargs: Params.kwargs):
        with self._lock:
            if self._stopped:
                raise AnalysisError("the App is stopping")
            executor = self._executor
        try:
            return executor.submit(work, *args, **kwargs).result()
        except BrokenProcessPool:
            with self._lock:
                if self._stopped:
                    raise AnalysisError("the App is stopping") from None
                if self._executor is executor:
                    self._executor = self._start()
            raise AnalysisError(
                "the process analysing the code died (killed, or out of memory)"
            ) from None

    def stop(self) -> None:
        """Stop at once: what the processes run is cut, and its jobs are given back."""
        with self._lock:
            self._stopped = True
            self._executor.shutdown(wait=False, cancel_futures=True)
        # The App starts no other process through multiprocessing.
        for child in multiprocessing.active_children():
            child.terminate()


def _started() -> None:
    # Ctrl-C reaches the whole process group: the App stops its analyses itself, so a child
    # must not die of it first with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The web server shares the machine: GitHub wants its answer within seconds, a review can
    # wait a moment longer.
    os.nice(10)
    logging.basicConfig(level=logging.WARNING)
