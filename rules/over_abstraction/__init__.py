"""Rules of the principle 'Over-abstraction' (over-abstraction)."""
