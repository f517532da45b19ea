"""A local Klaviyo for tests and the demo (see :mod:`connectors.klaviyo.sandbox.app`)."""

from connectors.klaviyo.sandbox.app import create_sandbox
from connectors.klaviyo.sandbox.state import SANDBOX, KlaviyoSandbox

__all__ = ["SANDBOX", "KlaviyoSandbox", "create_sandbox"]
