"""Rules of the principle 'Hidden feedback loops' (feedback-loops)."""
