"""What the rules know of machine-learning libraries, declared once for every rule that needs it."""
