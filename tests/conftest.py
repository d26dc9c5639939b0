from __future__ import annotations

import logging
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import git
import psycopg
import pytest

from tests.fakes.github import fake_github  # noqa: F401  (a fixture for every test module)


@pytest.fixture(autouse=True)
def _own_facts_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """The command line caches facts under the user's cache folder: never the real one here."""
    monkeypatch.setenv("DEBTBOT_CACHE_DIR", str(tmp_path_factory.mktemp("debtbot-cache")))


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """serve() points the root logger at the stderr of the test calling it, which pytest closes
    after the test: later tests' log lines would fail to be written and say so on their stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A DATABASE_URL on a fresh, empty schema of the local PostgreSQL, dropped afterwards."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} does not answer: {error}")
    schema = f"debtbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The App's store for a test, once on SQLite and once on the local PostgreSQL (its schema
    upgraded, as an operator does before starting the App): every test of the App that keeps
    state runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'debtbot.sqlite3'}"  # the App migrates it itself
    url = request.getfixturevalue("postgres_url")
    from bot import store  # the App's dependencies, not the command line's

    engine = store.make_engine(url)
    store.upgrade_schema(engine)  # as `debtbot db upgrade` before a deploy
    engine.dispose()
    return url


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented file below tmp_path and return its path."""

    def _write(relative: str, content: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"))
        return path

    return _write


def new_repo(path: Path) -> git.Repo:
    """An empty git repository on branch main, with an identity for commits."""
    repository = git.Repo.init(path, initial_branch="main")
    with repository.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.com")
        config.set_value("commit", "gpgsign", "false")
    return repository


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    return new_repo(tmp_path)


def write_files(root: Path, files: dict[str, str | None]) -> None:
    """Write (dedented) or, for None, delete each file below ``root``."""
    for path, text in files.items():
        if text is None:
            (root / path).unlink()
        else:
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(textwrap.dedent(text))


def commit_all(repository: git.Repo, message: str) -> str:
    repository.git.add(A=True)
    repository.index.commit(message)
    return repository.head.commit.hexsha


def rule_findings(code: str, source: str, path: str = "pipeline.py", config=None, files=()):
    """One rule's findings on a dedented snippet, asserting the file was read whole."""
    from rules.catalogue import rules_by_code
    from rules.engine.analyse import analyse_source
    from rules.engine.config import default_config

    text = textwrap.dedent(source).lstrip("\n")
    result = analyse_source(
        path, text.encode(), config or default_config(), [rules_by_code()[code]], files or {path}
    )
    assert not result.skipped, result.skipped
    return result.findings
