"""Rules of the principle 'Glue code and pipeline jungles' (glue-code)."""
