"""The shared sandbox pieces are exercised on the tiny fault-injecting app the HTTP client's
tests use (``tests/connectors/conftest.py``)."""

from tests.connectors.conftest import upstream

__all__ = ["upstream"]
