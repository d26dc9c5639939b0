"""The debt ledger: each repository's debt on its default branch over time, and its figures."""

from bot.store import BACKGROUND_SUBJECT


def ledger_subject(full_name: str) -> str:
    """One ledger job at a time per repository, after every review waiting (see bot.store)."""
    return f"{BACKGROUND_SUBJECT}ledger:{full_name}"
