"""Square POS connector (REST v2): client, mapping, webhooks and a local sandbox."""

from connectors.square.connector import SquareConfig, SquareConnector
from connectors.square.webhooks import SquareWebhooks

__all__ = ["SquareConfig", "SquareConnector", "SquareWebhooks"]
