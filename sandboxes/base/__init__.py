"""Shared pieces of the vendor sandboxes: fault injection, the ``/_sandbox/`` control API,
signed webhook delivery and a loopback server runner. Each vendor package builds its own
sandbox app on top of these."""

from sandboxes.base.control import SANDBOX_NAME, add_control_routes, create_sandbox_app
from sandboxes.base.faults import FAULTS, Fault, FaultMode, FaultRegistry
from sandboxes.base.server import run_app
from sandboxes.base.webhooks import WebhookSender, sign_shopify, sign_square

__all__ = [
    "FAULTS",
    "SANDBOX_NAME",
    "Fault",
    "FaultMode",
    "FaultRegistry",
    "WebhookSender",
    "add_control_routes",
    "create_sandbox_app",
    "run_app",
    "sign_shopify",
    "sign_square",
]
