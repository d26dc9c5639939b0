"""Reviewing a pull request: the pipeline and what it says."""
