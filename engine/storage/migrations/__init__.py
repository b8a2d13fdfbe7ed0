"""Alembic migrations for formflow's schema (run via ``Database.upgrade()``, no alembic.ini)."""
