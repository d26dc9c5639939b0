"""What the repository rules know of each file, kept on disk from one run to the next.

Summarising every Python file of a repository costs a parse per file, far more than analysing
the few files a change touches. A file's facts depend only on its path, its bytes and the code
that reads them, so that is the key: a file that did not change is never parsed again, by the
next ``debtbot diff`` or by the App after a restart, and a new debtbot version starts afresh.
The bytes enter the key as git's blob id, so a file read from a commit, whose blob id git
already knows, is found without being read at all.

The cache is a SQLite file. It is an optimisation only: when it cannot be opened, read or
written, the run goes on without it and says so once in the log; a damaged file is replaced.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from pathlib import Path

from rules.engine.facts import FileFacts

log = logging.getLogger(__name__)

FILE_NAME = "facts.sqlite3"
# Entries beyond this many, the least recently used first, are dropped after a run.
MAX_ENTRIES = 200_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS facts ("
    " key BLOB PRIMARY KEY, facts TEXT NOT NULL, used_at INTEGER NOT NULL);"
    " CREATE INDEX IF NOT EXISTS facts_used_at ON facts (used_at)"
)
_BATCH = 500  # keys per query: well under SQLite's limit on parameters


def default_file() -> Path:
    """The command line's cache: in $DEBTBOT_CACHE_DIR, else in debtbot/ of the user's cache
    folder ($XDG_CACHE_HOME, else ~/.cache)."""
    chosen = os.environ.get("DEBTBOT_CACHE_DIR")
    if chosen:
        return Path(chosen) / FILE_NAME
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "debtbot" / FILE_NAME


def key_of(path: str, data: bytes, max_file_size: int = 0, kinds: Iterable[str] = ()) -> bytes:
    return key_of_blob(path, blob_id(data), max_file_size, kinds)


def blob_id(data: bytes) -> str:
    """The name git gives a file with these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def key_of_blob(
    path: str, blob_id: str, max_file_size: int = 0, kinds: Iterable[str] = ()
) -> bytes:
    digest = hashlib.sha256(_code_version())
    digest.update(str(max_file_size).encode() + b"\0")  # a larger limit reads more files
    # Facts gathered without the costly kinds must not stand in for facts with them.
    digest.update(",".join(sorted(kinds)).encode() + b"\0")
    digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(blob_id.encode())
    return digest.digest()


@cache
def _code_version() -> bytes:
    # What decides what the facts say: the parser, and our code that reads, parses and walks
    # files and gathers the facts (the engine, the shared ML knowledge, the name helpers).
    # Changing any of it starts a new cache.
    digest = hashlib.sha256(version("libcst").encode())
    rules = Path(__file__).resolve().parent.parent
    sources = [*sorted((rules / "engine").glob("*.py")), *sorted((rules / "ml").glob("*.py"))]
    sources += [rules / name for name in ("context.py", "names.py", "readers.py")]
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.digest()


def load(cache_file: Path, keys: Iterable[bytes]) -> dict[bytes, FileFacts]:
    """The cached facts among ``keys``; nothing when the cache cannot be read."""
    wanted = list(dict.fromkeys(keys))
    found: dict[bytes, FileFacts] = {}
    try:
        with _connect(cache_file) as connection:
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = connection.execute(
                    f"SELECT key, facts FROM facts WHERE key IN ({marks})", batch
                )
                for key, text in rows:
                    found[bytes(key)] = FileFacts.from_json(text)
            if found:
                connection.executemany(
                    "UPDATE facts SET used_at = ? WHERE key = ?",
                    [(int(time.time()), key) for key in found],
                )
    except (sqlite3.Error, OSError, ValueError, KeyError, TypeError) as error:
        _warn(cache_file, error)
        return {}
    return found


def load_newer(cache_file: Path, after: int, limit: int) -> tuple[dict[bytes, FileFacts], int]:
    """The entries written since row ``after`` (at most the ``limit`` newest), and the newest
    row: how a long-running process keeps up with what other runs learnt."""
    found: dict[bytes, FileFacts] = {}
    newest = after
    try:
        with _connect(cache_file) as connection:
            rows = connection.execute(
                "SELECT rowid, key, facts FROM facts WHERE rowid > ? ORDER BY rowid DESC LIMIT ?",
                (after, limit),
            )
            for row, key, text in rows:
                newest = max(newest, row)
                found[bytes(key)] = FileFacts.from_json(text)
    except (sqlite3.Error, OSError, ValueError, KeyError, TypeError) as error:
        _warn(cache_file, error)
    return found, newest


def save(cache_file: Path, entries: Mapping[bytes, FileFacts]) -> None:
    """Add ``entries``, then trim the cache to MAX_ENTRIES."""
    if not entries:
        return
    now = int(time.time())
    try:
        with _connect(cache_file) as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO facts (key, facts, used_at) VALUES (?, ?, ?)",
                [(key, facts.to_json(), now) for key, facts in entries.items()],
            )
            connection.execute(
                "DELETE FROM facts WHERE key IN (SELECT key FROM facts ORDER BY used_at DESC"
                " LIMIT -1 OFFSET ?)",
                (MAX_ENTRIES,),
            )
    except (sqlite3.Error, OSError) as error:
        _warn(cache_file, error)


@contextmanager
def _connect(cache_file: Path) -> Iterator[sqlite3.Connection]:
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(cache_file, timeout=5)
    try:
        with connection:  # one transaction: committed, or rolled back on an error
            connection.execute("PRAGMA journal_mode=WAL")  # a concurrent run reads meanwhile
            connection.executescript(_SCHEMA)
            yield connection
    finally:
        connection.close()


_warned: set[Path] = set()


_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def _warn(cache_file: Path, error: BaseException) -> None:
    # A file that is not a database (truncated, overwritten) would fail every run: start anew.
    # A locked or unwritable one may work next time, so it is left alone.
    corrupt = getattr(error, "sqlite_errorcode", None) in _DAMAGED
    if corrupt:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cache_file}{suffix}").unlink(missing_ok=True)
    if cache_file not in _warned:
        _warned.add(cache_file)
        what = "was damaged and is started anew" if corrupt else "is not usable"
        log.warning("facts cache %s %s, going on without it: %s", cache_file, what, error)
