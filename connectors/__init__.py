"""Connectors: one package per vendor (client, mapping, webhooks, sandbox) plus the shared
HTTP base. Nothing here imports ``resolvers``, ``schema`` or ``gateway``."""
