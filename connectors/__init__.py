"""Connectors: one package per vendor (client, mapping, webhooks) plus the shared HTTP base.
Nothing here imports ``resolvers``, ``schema``, ``gateway`` or the vendor fakes in
``sandboxes``, and no vendor package imports another (lint-imports enforces both)."""
