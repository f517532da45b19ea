"""Fixtures shared across test packages."""

#: ``store`` and its backends (memory, SecantusDB, a real MongoDB with ``MONGODB_URI``).
pytest_plugins = ["tests.store.backends"]
