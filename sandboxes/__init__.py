"""Local fakes of the vendors and the demo world they serve: test and demo tooling, not part
of the product.

``sandboxes.base`` holds what every fake shares (fault injection, the ``/_sandbox/`` control
API, signed webhook delivery, the sandbox clock, a loopback server runner);
``sandboxes.shopify``, ``sandboxes.square`` and ``sandboxes.klaviyo`` each expose one
``create_sandbox`` factory; ``sandboxes.demo`` generates the deterministic world they serve.

This package is its own distribution (``omnigate-sandboxes``, ``sandboxes/pyproject.toml``),
kept out of the ``omnigate`` wheel. It imports from the product only the shared value types
of ``connectors.records``, so a wrong table in a client (a cost rule, a rate limit, a filter
grammar) is never mirrored by the fake that tests it; ``lint-imports`` enforces that.
"""
