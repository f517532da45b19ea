"""A local Klaviyo for tests and the demo (see :mod:`sandboxes.klaviyo.app`)."""

from sandboxes.klaviyo.app import create_sandbox
from sandboxes.klaviyo.state import SANDBOX, KlaviyoSandbox

__all__ = ["SANDBOX", "KlaviyoSandbox", "create_sandbox"]
