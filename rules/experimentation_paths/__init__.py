"""Rules of the principle 'Experimentation paths' (experimentation-paths)."""
