"""Loyalty that works in every channel, on the store's append-only ledger
(:mod:`resolvers.store.ledger`): what a caller may do with a member's points."""
