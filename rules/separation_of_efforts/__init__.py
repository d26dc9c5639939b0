"""Rules of the principle 'Separation of usefulness and usability efforts' (separation-of-efforts)."""
