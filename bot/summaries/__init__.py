"""Weekly summaries: the figures, posting them, and when."""
