"""The schema's migrations on SQLite and the real PostgreSQL: they build exactly the models,
an old database is adopted, and a database that is behind or ahead says what to do."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from bot import store
from bot.cli.main import main
from bot.store.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(url):
    engine = store.make_engine(url)
    yield engine
    engine.dispose()


def differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_the_migrations_build_exactly_the_models(engine) -> None:
    assert store.current_revision(engine) is None
    store.upgrade_schema(engine)
    assert store.current_revision(engine) == store.head_revision()
    assert differences(engine) == []
    store.check_schema(engine)  # raises when behind


def test_every_migration_goes_down_and_up_again(engine) -> None:
    store.upgrade_schema(engine)
    store.schema.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    store.upgrade_schema(engine)
    assert differences(engine) == []


TABLES_BEFORE_MIGRATIONS = {
    "installations", "repositories", "pull_requests", "analyses", "findings", "comments",
    "deliveries", "summary_posts", "summary_problems",
}  # fmt: skip


def test_a_database_made_before_migrations_is_adopted_with_its_rows(engine) -> None:
    # What debtbot did before it had migrations: the tables of then, made from the models.
    before = [t for t in Base.metadata.sorted_tables if t.name in TABLES_BEFORE_MIGRATIONS]
    Base.metadata.create_all(engine, tables=before)
    with store.make_session_factory(engine)() as session:
        store.record_delivery(session, "d-1", "pull_request", "opened", "{}", "acme/models#1")
    store.upgrade_schema(engine)
    assert store.current_revision(engine) == store.head_revision()
    with store.make_session_factory(engine)() as session:
        assert session.scalars(select(store.Delivery.delivery_id)).all() == ["d-1"]


def test_a_database_behind_says_how_to_upgrade(engine) -> None:
    with pytest.raises(
        store.SchemaError, match=r"has no debtbot schema yet\. Run `debtbot db upgrade`"
    ):
        store.check_schema(engine)


def test_a_database_a_newer_debtbot_upgraded_is_refused_not_touched(engine) -> None:
    store.upgrade_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for step in (store.check_schema, store.upgrade_schema, store.prepare_schema):
        with pytest.raises(store.SchemaError, match="revision 9999, which this version"):
            step(engine)
    assert store.current_revision(engine) == "9999"


def test_serve_upgrades_sqlite_itself_but_only_checks_postgresql(engine) -> None:
    if engine.dialect.name == "sqlite":
        store.prepare_schema(engine)
        assert store.current_revision(engine) == store.head_revision()
    else:
        with pytest.raises(store.SchemaError, match="debtbot db upgrade"):
            store.prepare_schema(engine)
        assert store.current_revision(engine) is None


def test_upgrades_started_together_on_postgresql_take_turns(postgres_url) -> None:
    engines = [store.make_engine(postgres_url) for _ in range(4)]
    errors: list[BaseException] = []

    def upgrade(engine) -> None:
        try:
            store.upgrade_schema(engine)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upgrade, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)  # without the lock they deadlock on the tables they create
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert store.current_revision(engines[0]) == store.head_revision()
    for engine in engines:
        engine.dispose()


# --- debtbot db ---------------------------------------------------------------------------------


def test_db_current_and_upgrade(url, capsys) -> None:
    assert main(["db", "current", "--database-url", url]) == 1
    assert "has no debtbot schema yet. Run `debtbot db upgrade`" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    head = store.head_revision()
    assert f"upgraded from nothing to revision {head}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert f"already at revision {head}" in capsys.readouterr().out
    assert main(["db", "current", "--database-url", url]) == 0
    assert f"at revision {head}, this version's own" in capsys.readouterr().out


def test_db_reads_database_url_from_the_environment(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    assert main(["db", "upgrade"]) == 0
    assert "env.sqlite3: upgraded from nothing" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url", "'not a url' is not a database URL"),
        ("postgresql://nobody:secret@127.0.0.1:1/none", "cannot be used: connection"),
    ],
)
def test_db_errors_are_one_line_without_the_password(url, said, capsys) -> None:
    assert main(["db", "upgrade", "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert said in err and "secret" not in err and "Traceback" not in err


def test_serve_refuses_a_postgresql_database_that_is_behind(postgres_url, fake_github) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "GITHUB_APP_ID": str(fake_github.app_id),
        "GITHUB_PRIVATE_KEY": fake_github.private_key,
        "GITHUB_WEBHOOK_SECRET": "s3cret",
        "GITHUB_API_URL": fake_github.url,
        "DATABASE_URL": postgres_url,
        "PUBLIC_URL": "https://debtbot.example.com",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", "0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "has no debtbot schema yet. Run `debtbot db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr
