"""Square POS connector (REST v2): client, mapping and webhooks, declared to the gateway by
:mod:`connectors.square.vendor` (its local fake is :mod:`sandboxes.square`)."""

from connectors.square.connector import SquareConfig, SquareConnector
from connectors.square.vendor import VENDOR
from connectors.square.webhooks import SquareWebhooks

__all__ = ["VENDOR", "SquareConfig", "SquareConnector", "SquareWebhooks"]
