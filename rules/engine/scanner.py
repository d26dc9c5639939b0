"""Run the engine over files on disk or at a git commit, and total the results."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Protocol

from rules.engine import conventions, factcache, provenance
from rules.engine.analyse import FileResult, analyse_source
from rules.engine.config import Config
from rules.engine.facts import FileFacts
from rules.engine.repository import Repository, run_repository_rules
from rules.finding import Finding, Skipped

# What the repository rules may read beyond the files under review: Python files (summarised),
# the YAML configuration they load, and the text files that may name a configuration file
# (scripts, documentation, other configuration). Only Python files are read up front; the
# others only when a rule asks.
CONTEXT_FILES = (
    ".py", ".yaml", ".yml", ".json", ".toml", ".sh", ".bash", ".md", ".rst", ".txt", ".cfg",
    ".ini", ".ipynb", ".mk", ".env", ".tf", ".jsonnet", ".j2", ".jinja", ".ps1", ".bat",
    ".slurm", ".sbatch", ".conf", "Dockerfile", "Makefile", "justfile", "Procfile",
)  # fmt: skip

# (repository-relative POSIX path, a way to read its bytes)
Source = tuple[str, Callable[[], bytes]]


class BlobStore(Protocol):
    """Reads files by git's name for their content (the blob id)."""

    def read(self, blob_id: str) -> bytes:
        """The blob's bytes; OSError when it cannot be read."""
        ...

    def load(self, blob_ids: Collection[str]) -> None:
        """Read many blobs ahead, at the cost of one: the next ``read`` of them is free."""
        ...


@dataclass(frozen=True)
class Blob:
    """How to read a file that git names by its content. The facts cache is keyed by that name,
    so the facts of a file that did not change are found without reading it; a source whose
    reader is a Blob is read only when its facts are not cached."""

    blob_id: str
    store: BlobStore

    def __call__(self) -> bytes:
        return self.store.read(self.blob_id)


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    seconds: float = 0.0

    def stats(self) -> dict[str, object]:
        return {
            "files": self.files,
            "lines": self.lines,
            "findings": len(self.findings),
            "skipped": len(self.skipped),
            "seconds": round(self.seconds, 3),
            "by_principle": dict(sorted(Counter(f.principle for f in self.findings).items())),
            "by_severity": dict(sorted(Counter(f.severity for f in self.findings).items())),
            "by_code": dict(sorted(Counter(f.code for f in self.findings).items())),
        }


def walk_files(root: Path, config_of: Callable[[str], Config]) -> list[str]:
    """Every file below ``root`` that the configuration governing its folder does not exclude,
    as relative POSIX paths. ``config_of`` takes a path below ``root`` (``folder/-`` for a
    folder): a monorepo's sub-projects each exclude their own files."""
    found = []
    for folder, dirs, names in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        config = config_of(prefix + "-")
        dirs[:] = sorted(d for d in dirs if not config.is_excluded(prefix + d))
        found.extend(
            prefix + name
            for name in sorted(names)
            if not config.is_excluded(prefix + name)
            and not os.path.islink(os.path.join(folder, name))
        )
    return found


def select(paths: Iterable[str], config: Config) -> list[str]:
    """The paths that at least one enabled rule reads."""
    rules = config.rules()
    return [p for p in paths if not config.is_excluded(p) and any(r.applies_to(p) for r in rules)]


def scan(
    sources: Iterable[Source],
    config: Config,
    files: frozenset[str],
    progress: Callable[[Iterable[Source]], Iterator[Source]] | None = None,
    context: Iterable[Source] = (),
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache: Path | None = None,
    read_base: Callable[[str], str | None] | None = None,
    owners: frozenset[str] = frozenset(),
    jobs: int = 1,
) -> ScanResult:
    """Findings for ``sources``, the same and in the same order whatever ``jobs`` (how many
    processes analyse files at once). ``context`` holds the repository's other Python files: read
    only to summarise them for the repository rules (who tests what, who subclasses what),
    through ``facts_cache`` (a file, see rules.engine.factcache) when given. ``added`` is the change
    under review, for the rules that judge a change as a whole; ``read_base`` reads a file as it
    was at the change's base (None when absent), for those that compare with it. ``owners`` are
    the copyright holders of the repository's licence (rules.engine.provenance.owners)."""
    result = ScanResult()
    started = time.perf_counter()
    rules = config.rules()
    repository_rules = [
        r
        for r in rules
        if r.check_repository is not None or (r.check_change is not None and added is not None)
    ]
    facts: dict[str, FileFacts] = {}
    readers: dict[str, Callable[[], bytes]] = {}
    readable: list[tuple[str, bytes]] = []
    sources = list(sources)
    _load_ahead(read for _, read in sources)
    for path, read in sources:
        readers[path] = read
        try:
            readable.append((path, read()))
        except OSError as exc:
            result.skipped.append(Skipped(path, f"could not be read: {exc.strerror or exc}"))
    work = _Work(config, tuple(rules), files, bool(repository_rules), owners)
    analysed = _analyse_all(readable, work, jobs)
    for file_result in progress(analysed) if progress else analysed:
        path = file_result.path
        result.files += 1
        result.lines += file_result.lines
        result.findings.extend(file_result.findings)
        result.skipped.extend(file_result.skipped)
        if file_result.facts is not None:
            facts[path] = file_result.facts
    if repository_rules:
        every_reader = dict(readers)
        for path, read in context:
            every_reader.setdefault(path, read)
        others = [(p, r) for p, r in context if p not in readers and p.endswith(".py")]
        facts.update(_facts(others, config, facts_cache, jobs))
        found, problems = run_repository_rules(
            Repository(facts, files, owners),
            repository_rules,
            config,
            lambda p: _text(every_reader[p]),
            added,
            read_base,
        )
        result.findings.extend(f for f in found if f.path in readers)
        result.skipped.extend(problems)
    result.seconds = time.perf_counter() - started
    return result


def summarise(sources: Iterable[Source], config: Config, facts_cache: Path | None) -> int:
    """Summarise files for the repository rules ahead of a scan, and keep their facts (in
    memory and in ``facts_cache``): a scan that later reads them as context finds them ready.
    Lets a large repository's first analysis be cut into jobs of bounded length. Returns how
    many of them have facts."""
    return len(_facts(sources, config, facts_cache))


def _facts(
    sources: Iterable[Source], config: Config, facts_cache: Path | None, jobs: int = 1
) -> dict[str, FileFacts]:
    """The facts of files only read for context: from memory, else the cache file, else
    summarised now (and then remembered in both)."""
    kinds = {kind for rule in config.rules() for kind in rule.facts}
    keyed: list[tuple[str, Callable[[], bytes], bytes]] = []
    read_already: dict[bytes, bytes] = {}
    for path, read in sources:
        if isinstance(read, Blob):
            key = factcache.key_of_blob(path, read.blob_id, config.max_file_size, kinds)
        else:
            try:
                data = read()
            except OSError:
                continue  # a file that cannot be read tells the rules nothing
            key = factcache.key_of(path, data, config.max_file_size, kinds)
            read_already[key] = data
        keyed.append((path, read, key))
    known = {key: _FACTS_CACHE[key] for _, _, key in keyed if key in _FACTS_CACHE}
    missing = [key for _, _, key in keyed if key not in known]
    if facts_cache is not None and missing:
        known.update(factcache.load(facts_cache, missing))
    summarised: dict[bytes, FileFacts] = {}
    unread = {key: (path, read) for path, read, key in keyed if key not in known}
    _load_ahead(read for _, read in unread.values())
    unknown: dict[bytes, tuple[str, bytes]] = {}
    for key, (path, read) in unread.items():
        try:
            unknown[key] = (path, read_already[key] if key in read_already else read())
        except OSError:
            continue  # as above; and nothing is remembered of it
    work = _Work(config, (), (), True, frozenset())
    results = _analyse_all(list(unknown.values()), work, jobs)
    for key, file_result in zip(unknown, results, strict=True):
        known[key] = file_result.facts
        if file_result.facts is not None:
            summarised[key] = file_result.facts
    if facts_cache is not None:
        factcache.save(facts_cache, summarised)
    remember(known)
    return {path: facts for path, _, key in keyed if (facts := known.get(key)) is not None}


def _load_ahead(reads: Iterable[Callable[[], bytes]]) -> None:
    """Have each store read its blobs among ``reads`` at once, rather than one by one."""
    wanted: dict[int, tuple[BlobStore, list[str]]] = {}
    for read in reads:
        if isinstance(read, Blob):
            wanted.setdefault(id(read.store), (read.store, []))[1].append(read.blob_id)
    for store, blob_ids in wanted.values():
        store.load(blob_ids)


@dataclass(frozen=True)
class _Work:
    """What every file of one scan is analysed with."""

    config: Config
    rules: tuple
    files: Collection[str]
    collect_facts: bool
    owners: frozenset[str]


# Below this many files a file each, starting processes costs more than it saves.
FILES_PER_PROCESS = 8
_CURRENT: _Work | None = None  # what forked processes analyse with (they inherit it)


def _analyse_all(items: list[tuple[str, bytes]], work: _Work, jobs: int) -> Iterator[FileResult]:
    """``analyse_source`` over (path, bytes), in order: in ``jobs`` processes when there are
    enough files. The processes are forked, so they share the configuration and its rules as
    they are, and hand back plain results (findings, facts)."""
    processes = min(jobs, len(items) // FILES_PER_PROCESS)
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for path, data in items:
            yield _analyse(work, path, data)
        return
    global _CURRENT
    _CURRENT = work
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            yield from pool.imap(_analyse_forked, items, chunksize=4)
    finally:
        _CURRENT = None


def _analyse_forked(item: tuple[str, bytes]) -> FileResult:
    assert _CURRENT is not None, "the process was not forked from a scan"
    return _analyse(_CURRENT, *item)


def _analyse(work: _Work, path: str, data: bytes) -> FileResult:
    # A file's tree is millions of short-lived objects without a cycle among them, freed by
    # reference counting; the cyclic collector's passes over them, and over all else alive,
    # cost a seventh of a full check. It rests while one file is analysed.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return analyse_source(
            path, data, work.config, work.rules, work.files, work.collect_facts, work.owners
        )
    finally:
        if collecting:
            gc.enable()


def forget() -> None:
    """Drop the facts this process keeps in memory: the next scan summarises files afresh."""
    _FACTS_CACHE.clear()


def remember(entries: Mapping[bytes, FileFacts | None]) -> None:
    """Keep facts in memory, by cache key (see rules.engine.factcache), for the next scans."""
    for key, facts in entries.items():
        if len(_FACTS_CACHE) >= FACTS_IN_MEMORY:
            _FACTS_CACHE.pop(next(iter(_FACTS_CACHE)))  # the oldest entry
        _FACTS_CACHE[key] = facts


# A file's facts depend on its path and bytes only, so a long-running App reviewing push after
# push re-reads only what changed. (The engine's rules do not feed the facts.)
_FACTS_CACHE: dict[bytes, FileFacts | None] = {}
FACTS_IN_MEMORY = 50_000


def _text(read: Callable[[], bytes]) -> str:
    return read().decode("utf-8-sig", errors="replace")


def touches(finding: Finding, added: Mapping[str, frozenset[int]]) -> bool:
    """Whether the finding spans a line the change added or changed."""
    lines = added.get(finding.path)
    return bool(lines) and any(n in lines for n in range(finding.line, finding.end_line + 1))


def only_added(findings: Iterable[Finding], added: Mapping[str, frozenset[int]]) -> list[Finding]:
    """The findings on lines the change added or changed: what a review comments on."""
    return [f for f in findings if touches(f, added)]


def not_in_base(findings: Iterable[Finding], base_findings: Iterable[Finding]) -> list[Finding]:
    """The findings a change brought. A finding the base already had was there before: a line
    the change merely touched, annotated, moved, reformatted (``x = 1`` to ``x=1``) or gave
    another argument must not get the change blamed for it. The base had it when it had the same
    fingerprint (rule, file, scope and code), or the same rule said the same thing in the same
    file, spaces and numbers aside, as many times as the base said it: a copy's line numbers
    (DEBT804) move when the code above it is reformatted."""
    base_findings = list(base_findings)
    fingerprints = {f.fingerprint for f in base_findings}
    said = Counter(_said(f) for f in base_findings)
    findings = list(findings)
    old: set[int] = set()
    same = [f for f in findings if f.fingerprint in fingerprints]
    rest = sorted((f for f in findings if f.fingerprint not in fingerprints), key=_place)
    for finding in [*same, *rest]:
        key = _said(finding)
        if finding.fingerprint in fingerprints or said[key] > 0:
            said[key] -= 1
            old.add(id(finding))
    return [f for f in findings if id(f) not in old]


def base_groups(
    groups: Iterable[tuple[Config, Iterable[str]]],
    wanted: Mapping[str, Collection[str]],
    base_files: Collection[str],
) -> tuple[list[tuple[Config, list[str]]], dict[str, list[tuple[str, ...]]]]:
    """What a change's base must be analysed on to tell which findings the change brought (see
    :func:`brought_by_change`): each file of ``groups`` with a finding (``wanted``: the codes
    found in it, by path), as the base had it, and the files of its kinds
    (rules.engine.conventions), each under its group's configuration narrowed to those codes.
    Also each such file's kinds, by path."""
    kinds: dict[str, list[tuple[str, ...]]] = {}
    found: list[tuple[Config, list[str]]] = []
    seen: set[str] = set()
    for config, group in groups:
        mine = [path for path in group if path in wanted]
        codes = {code for path in mine for code in wanted[path]}
        # Only the rules that found something need to run again; those that read costly facts
        # stay, so that the facts of the other files are the cached ones (see factcache).
        narrowed = replace(
            config, enabled=frozenset(r.code for r in config.rules() if r.code in codes or r.facts)
        )
        paths = []
        for path in mine:
            kinds[path] = conventions.kinds_of(path, base_files, partial(select, config=narrowed))
            for other in (path, *(peer for kind in kinds[path] for peer in kind)):
                if other in base_files and other not in seen:
                    seen.add(other)
                    paths.append(other)
        if paths:
            found.append((narrowed, paths))
    return found, kinds


def codes_by_path(findings: Iterable[Finding]) -> dict[str, frozenset[str]]:
    """The rules that found something in each file: what :func:`base_groups` wants."""
    codes: dict[str, set[str]] = {}
    for finding in findings:
        codes.setdefault(finding.path, set()).add(finding.code)
    return {path: frozenset(found) for path, found in codes.items()}


def brought_by_change(
    findings: Iterable[Finding], base_findings: Iterable[Finding], kinds: conventions.Kinds
) -> list[Finding]:
    """The findings a change brought: neither what its base already had (:func:`not_in_base`)
    nor what most files of the same kind already do (rules.engine.conventions). The base's
    findings are those of :func:`base_groups`' files."""
    base_findings = list(base_findings)
    new = not_in_base(findings, base_findings)
    usual = {id(f) for f in conventions.conventional(new, base_findings, kinds)}
    return [f for f in new if id(f) not in usual]


def _place(finding: Finding) -> tuple[str, int, int]:
    return finding.path, finding.line, finding.column


def _said(finding: Finding) -> tuple[str, str, str]:
    return finding.code, finding.path, _NUMBERS.sub("#", "".join(finding.message.split()))


_NUMBERS = re.compile(r"\d+")


def scan_groups(
    groups: Iterable[tuple[Config, Iterable[str]]],
    reader: Callable[[str], Callable[[], bytes]],
    files: frozenset[str],
    added: Mapping[str, frozenset[int]] | None = None,
    facts_cache: Path | None = None,
    progress: Callable[[int], Callable[[Iterable[Source]], Iterator[Source]] | None] | None = None,
    read_base: Callable[[str], str | None] | None = None,
    jobs: int = 1,
) -> ScanResult:
    """:func:`scan` once per configuration (a monorepo's sub-projects each have their own),
    every run with the whole repository as context, in one result. ``reader`` tells how to
    read a path; ``progress`` makes a progress wrapper for a group of that many files;
    ``read_base`` reads a file as the change's base had it (see :func:`scan`)."""
    context = [(p, reader(p)) for p in sorted(files) if p.endswith(CONTEXT_FILES)]
    _load_ahead(reader(p) for p in provenance.owner_sources(files))
    owners = provenance.owners(files, lambda path: reader(path)())
    total = ScanResult()
    for config, paths in groups:
        sources = [(p, reader(p)) for p in paths]
        shown = progress(len(sources)) if progress else None
        merge(
            total,
            scan(
                sources,
                config,
                files,
                shown,
                context,
                added,
                facts_cache,
                read_base,
                owners,
                jobs,
            ),
        )
    return total


def merge(total: ScanResult, part: ScanResult) -> None:
    total.findings.extend(part.findings)
    total.skipped.extend(part.skipped)
    total.files += part.files
    total.lines += part.lines
    total.seconds += part.seconds
