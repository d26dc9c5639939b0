"""The only code that talks to GitHub or runs git."""
