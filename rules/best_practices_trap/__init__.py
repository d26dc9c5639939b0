"""Rules of the principle 'The best practices trap' (best-practices-trap)."""
