"""The one error the command line reports as a usage error (exit status 2) besides the
configuration's and git's."""

from __future__ import annotations


class UsageError(ValueError):
    """Something a person must change in how debtbot is called; the message says what."""
