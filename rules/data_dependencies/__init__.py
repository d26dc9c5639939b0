"""Rules of the principle 'The cost of data dependencies' (data-dependencies)."""
