"""Alembic migrations for the Byway database, shipped inside the package (see :mod:`byway.store.migrate`)."""
