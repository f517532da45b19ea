"""Omnichannel analytics for internal tools: figures over a period ``[from, to)`` and,
optionally, some locations, computed by the store from the unified data (segment facts,
holds, the stock journal, the loyalty ledger), never by asking a vendor."""
