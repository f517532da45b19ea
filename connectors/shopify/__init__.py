"""Shopify: the online store and Shopify POS, through the Admin GraphQL API.

The connector (:mod:`connectors.shopify.connector`) implements ``CustomerSource``,
``OrderSource``, ``LocationSource`` and ``InventorySource``; :mod:`connectors.shopify.webhooks`
verifies and parses signed deliveries; :mod:`connectors.shopify.vendor` declares it to the
gateway (``VENDOR``); :mod:`sandboxes.shopify` is a local Admin API over the demo dataset.
See ``docs/connectors/shopify.md``.
"""

from connectors.shopify.vendor import VENDOR

__all__ = ["VENDOR"]
