"""The dashboard: each account's and repository's debt ledger, for whoever GitHub says may
see it."""
