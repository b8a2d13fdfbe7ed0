"""What several test folders share: definitions, users, signing in, servers and databases.

One module per topic, imported as ``from support.<topic> import …`` (``tests/`` is on the
import path through the ``pythonpath`` option in pyproject.toml). Fixtures stay in the
``conftest.py`` files; the modules here hold plain functions, classes and constants.
"""
