"""Klaviyo's name among the sources: in ids, settings, logs and the schema's ``Source``."""

from __future__ import annotations

from connectors.records import Source

SOURCE = Source("klaviyo")
