"""Rules of the principle 'Configuration debt' (configuration-debt)."""
