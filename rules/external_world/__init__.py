"""Rules of the principle 'Changes in the external world' (external-world)."""
