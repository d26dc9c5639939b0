"""The dashboard: each account's and repository's debt ledger, for the people GitHub says may see it."""
