"""The schema's version: Alembic migrations applied by ``debtbot db upgrade``, checked at start.

SQLite is the one-process default, so ``debtbot serve`` brings its file up to date itself.
PostgreSQL serves several replicas, which must not race to alter one schema: they only check,
and the operator (or the compose file) runs ``debtbot db upgrade`` once before they start.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from bot.store.engine import make_engine

# The revision that made the schema create_all made before migrations existed: a database
# from then has the tables but no version, and is stamped with it before upgrading.
BASELINE = "0001"
# Any number: it only has to be the same for every debtbot process (PostgreSQL advisory lock).
_UPGRADE_LOCK = 0x64656274


class SchemaError(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to do."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _unversioned_tables(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and "deliveries" in tables


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``: one transaction, so a failed step changes nothing."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two upgrades at once (two replicas started by hand, say) take turns; the second
            # then finds the schema at head and does nothing.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        config = _config(connection)
        if _unversioned_tables(connection):
            command.stamp(config, BASELINE)
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in _known_revisions():
            raise SchemaError(_unknown(engine, current))
        command.upgrade(config, revision)


def create_schema(engine: Engine) -> None:
    """The schema at this version's head, by its migrations (as ``debtbot db upgrade``)."""
    upgrade(engine)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)


def check(engine: Engine) -> None:
    """Raise :class:`SchemaError` unless the database is at this code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        state = "has no debtbot schema yet"
    elif current in _known_revisions():
        state = f"is at revision {current}, behind this version's {head}"
    else:
        raise SchemaError(_unknown(engine, current))
    raise SchemaError(
        f"The database at {where} {state}. Run `debtbot db upgrade` (with the same "
        "DATABASE_URL) once, then start the App."
    )


def _unknown(engine: Engine, current: str) -> str:
    where = engine.url.render_as_string(hide_password=True)
    return (
        f"The database at {where} is at revision {current}, which this version of debtbot "
        f"does not know (its newest is {head_revision()}): a newer debtbot upgraded it. Run "
        "that version, or restore the database from before the upgrade."
    )


def _known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}


def prepare(engine: Engine) -> None:
    """What ``debtbot serve`` does at start: upgrade SQLite, check anything else."""
    if engine.dialect.name != "sqlite":
        check(engine)
        return
    upgrade(engine)


def new_revision(message: str) -> str:
    """Write the migration from a database at head to the models (for developers: see
    bot/store/migrations/__init__.py); returns its file's path."""
    import tempfile

    scripts = ScriptDirectory.from_config(_config())
    number = f"{len(list(scripts.walk_revisions())) + 1:04d}"
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/head.sqlite3")
        upgrade(engine)
        with engine.begin() as connection:
            script = command.revision(
                _config(connection), message=message, autogenerate=True, rev_id=number
            )
        engine.dispose()
    return script.path
