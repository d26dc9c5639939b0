"""debtbot's tests; they mirror the layout of ``rules/`` and ``bot/``."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
