"""The App's database."""
