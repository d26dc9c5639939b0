"""Rules of the principle 'Cutting corners' (cutting-corners)."""
