"""Command groups of ``formflow`` that need the app (database, users, tokens)."""
