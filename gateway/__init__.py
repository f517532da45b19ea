"""Serving: the Starlette app, settings, auth, store implementations, events, CLI."""

__version__ = "0.1.0"
