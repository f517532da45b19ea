"""Lightspeed, a POS vendor that exists only in the tests: a small connector (customers and
signed customer webhooks), its settings and its declaration, written against the product's
public vendor API alone. ``tests/vendors/test_extra_vendor.py`` plugs it into the gateway with
one ``register(VENDOR)`` and no other change."""

from tests.vendors.lightspeed.vendor import VENDOR

__all__ = ["VENDOR"]
