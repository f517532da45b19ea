"""Klaviyo: marketing profiles, consent and email engagement in; loyalty properties out.
Declared to the gateway by :mod:`connectors.klaviyo.vendor`."""

from connectors.klaviyo.vendor import VENDOR

__all__ = ["VENDOR"]
