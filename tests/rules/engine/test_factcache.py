"""The facts cache on disk: what the repository rules learnt of other files, kept between runs."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from bot.cli.main import main
from rules.engine import default_config, factcache, scanner
from rules.engine.facts import FileFacts

SCORING = """\
from abc import ABC, abstractmethod


class Scorer(ABC):
    @abstractmethod
    def score(self, frame): ...
"""
LOGISTIC = """\
from churn.scoring import Scorer


class LogisticScorer(Scorer):
    def score(self, frame):
        return frame.sum(axis=1)
"""


@pytest.fixture
def project(write, tmp_path, monkeypatch):
    """An abstract class whose one implementation lives in a file that is only context."""
    write("pyproject.toml", "[tool.debtbot]\n")
    write("churn/__init__.py", "")
    write("churn/scoring.py", SCORING)
    write("churn/logistic.py", LOGISTIC)
    for extra in range(5):
        write(f"churn/helpers_{extra}.py", f"def helper_{extra}(x):\n    return x + {extra}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEBTBOT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def check(capsys, *options: str) -> list[tuple[str, str, int]]:
    # Each run is a new process as far as the cache goes: the in-memory layer is emptied.
    scanner._FACTS_CACHE.clear()
    main(["check", "churn/scoring.py", "--format", "json", "--no-progress", *options])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return [(f["code"], f["path"], f["line"]) for f in findings]


def rows(cache_file) -> dict[bytes, int]:
    with sqlite3.connect(cache_file) as connection:
        return dict(connection.execute("SELECT key, used_at FROM facts"))


def test_a_second_run_reads_other_files_facts_from_disk_and_finds_the_same(project, capsys):
    cache_file = project / "cache" / factcache.FILE_NAME

    cold = check(capsys)

    assert ("DEBT204", "churn/scoring.py", 4) in cold  # needs the facts of churn/logistic.py
    stored = rows(cache_file)
    assert len(stored) == 7  # the context files: __init__, logistic and five helpers
    with sqlite3.connect(cache_file) as connection:
        connection.execute("UPDATE facts SET used_at = 0")

    assert check(capsys) == cold

    # Every entry was found on disk (and so marked used), none summarised again.
    assert set(rows(cache_file)) == set(stored)
    assert all(used > 0 for used in rows(cache_file).values())


def test_a_changed_file_gets_a_new_entry_and_its_new_facts(project, capsys, write):
    cache_file = project / "cache" / factcache.FILE_NAME
    assert ("DEBT204", "churn/scoring.py", 4) in check(capsys)
    before = set(rows(cache_file))

    # A second implementation arrives: the abstraction is now earned.
    write("churn/logistic.py", LOGISTIC + "\n\nclass TreeScorer(Scorer):\n    pass\n")

    assert ("DEBT204", "churn/scoring.py", 4) not in check(capsys)
    assert len(set(rows(cache_file)) - before) == 1


def test_no_cache_writes_nothing(project, capsys):
    findings = check(capsys, "--no-cache")
    assert ("DEBT204", "churn/scoring.py", 4) in findings
    assert not (project / "cache").exists()


def test_a_broken_cache_file_is_said_once_and_the_run_goes_on(project, capsys, caplog):
    (project / "cache").mkdir()
    (project / "cache" / factcache.FILE_NAME).write_bytes(b"not a database at all" * 100)
    (project / "cache" / f"{factcache.FILE_NAME}-wal").write_bytes(b"left over")

    with caplog.at_level(logging.WARNING, logger="rules.engine.factcache"):
        first = check(capsys)
        second = check(capsys)

    assert ("DEBT204", "churn/scoring.py", 4) in first and second == first
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "was damaged and is started anew" in warnings[0]
    wal = project / "cache" / f"{factcache.FILE_NAME}-wal"
    assert not wal.exists() or wal.read_bytes() != b"left over"  # its stale journal went too
    # The first run replaced it; the second found its facts there.
    assert len(rows(project / "cache" / factcache.FILE_NAME)) == 7


def test_the_key_follows_the_path_and_the_bytes():
    key = factcache.key_of("a.py", b"x = 1\n")
    assert key == factcache.key_of("a.py", b"x = 1\n")
    assert key != factcache.key_of("b.py", b"x = 1\n")
    assert key != factcache.key_of("a.py", b"x = 2\n")
    # A file too large to read under one limit may be read under another.
    assert key != factcache.key_of("a.py", b"x = 1\n", max_file_size=10)


def test_the_cache_lives_where_the_environment_says(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBTBOT_CACHE_DIR", str(tmp_path / "mine"))
    assert factcache.default_file() == tmp_path / "mine" / factcache.FILE_NAME
    monkeypatch.delenv("DEBTBOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert factcache.default_file() == tmp_path / "xdg" / "debtbot" / factcache.FILE_NAME


class CountingStore:
    """Blobs by id, as git keeps them, counting what is read and how many batches it took."""

    def __init__(self, files: dict[str, bytes]):
        self.blobs = {factcache.blob_id(data): data for data in files.values()}
        self.read_ids: list[str] = []
        self.batches = 0

    def load(self, blob_ids):
        self.batches += 1
        self.read_ids.extend(blob_ids)

    def read(self, blob_id):
        if blob_id not in self.read_ids:
            self.read_ids.append(blob_id)
        return self.blobs[blob_id]


def scan_blobs(files: dict[str, bytes], analysed: str, cache_file):
    scanner._FACTS_CACHE.clear()  # a new process
    store = CountingStore(files)
    reader = {path: scanner.Blob(factcache.blob_id(data), store) for path, data in files.items()}
    result = scanner.scan_groups(
        [(default_config(), [analysed])],
        reader.__getitem__,
        frozenset(files),
        facts_cache=cache_file,
    )
    read = {path for path, data in files.items() if factcache.blob_id(data) in store.read_ids}
    return [(f.code, f.path, f.line) for f in result.findings], read, store.batches


def test_files_known_by_their_blob_id_are_not_read_at_all(tmp_path):
    files = {
        "churn/__init__.py": b"",
        "churn/scoring.py": SCORING.encode(),
        "churn/logistic.py": LOGISTIC.encode(),
        **{
            f"churn/helpers_{n:03}.py": f"def helper_{n}(x):\n    return x\n".encode()
            for n in range(200)
        },
    }
    cache_file = tmp_path / factcache.FILE_NAME

    cold, read_cold, _ = scan_blobs(files, "churn/scoring.py", cache_file)
    assert ("DEBT204", "churn/scoring.py", 4) in cold
    assert read_cold == set(files)

    warm, read_warm, batches = scan_blobs(files, "churn/scoring.py", cache_file)
    assert warm == cold
    # The analysed file is read, and the sample of files that tells the copyright holders (one
    # batch each); the others' facts come from the cache by their blob id alone.
    assert "churn/scoring.py" in read_warm and "churn/logistic.py" not in read_warm
    assert len(read_warm) <= 1 + 60 and batches == 2

    files["churn/logistic.py"] += b"\n\nclass TreeScorer(Scorer):\n    pass\n"
    changed, read_changed, _ = scan_blobs(files, "churn/scoring.py", cache_file)
    assert ("DEBT204", "churn/scoring.py", 4) not in changed
    assert "churn/logistic.py" in read_changed and len(read_changed) <= 2 + 60


def test_a_long_running_process_takes_in_only_what_was_written_since(tmp_path):
    cache = tmp_path / "facts.db"
    first = {factcache.key_of(f"m{n}.py", b"x"): FileFacts(f"m{n}.py") for n in range(3)}
    factcache.save(cache, first)
    found, newest = factcache.load_newer(cache, 0, 100)
    assert found == first
    later = {factcache.key_of("late.py", b"y"): FileFacts("late.py")}
    factcache.save(cache, later)
    assert factcache.load_newer(cache, newest, 100)[0] == later
    # At most the newest entries, and nothing from a cache that is not there.
    assert factcache.load_newer(cache, 0, 1)[0] == later
    assert factcache.load_newer(tmp_path / "none" / "facts.db", 0, 100) == ({}, 0)
