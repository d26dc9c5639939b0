"""The store's schema history, as Alembic migrations (env.py, versions/).

A new migration, after a change to bot/store/models.py: ``python -m bot.store.migrations
"what changed"`` writes versions/NNNN_what_changed.py from the difference between the models and
a database at the current head; read it, then commit it with the models."""
