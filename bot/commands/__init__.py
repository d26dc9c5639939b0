"""Commands people give in pull request comments, and the answers."""
