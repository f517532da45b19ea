"""Square POS connector (REST v2): client, mapping and webhooks (its local fake is
:mod:`sandboxes.square`)."""

from connectors.square.connector import SquareConfig, SquareConnector
from connectors.square.webhooks import SquareWebhooks

__all__ = ["SquareConfig", "SquareConnector", "SquareWebhooks"]
