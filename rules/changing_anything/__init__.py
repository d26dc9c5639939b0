"""Rules of the principle 'Changing anything changes everything' (changing-anything)."""
