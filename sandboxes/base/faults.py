"""Fault injection for the vendor sandboxes.

The gateway's degraded paths (retries, ``Retry-After``, the circuit breaker, ``null`` plus an
error code, stale profiles) only get exercised if a vendor misbehaves on demand. A
:class:`FaultRegistry` on the app holds the faults currently set; :func:`fault_middleware` applies
them to matching requests before the vendor handler runs.

Faults are deterministic (no probabilities) so tests and demos are repeatable: a fault applies to
every matching request, or to the next ``count`` of them and then removes itself. Several faults
can be active at once: all matching ``latency`` faults add up, then the most recently set other
fault (an error, a hang or a malformed body) decides the response.

Requests under ``/_sandbox/`` (the control API) are never faulted or counted: the control API
must keep working while the vendor API is "down".
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import fnmatch
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

#: Where the control API lives; see :mod:`sandboxes.base.control`.
CONTROL_PREFIX = "/_sandbox"

#: A hang outlasts every client timeout but stays finite, so a forgotten one ends eventually.
HANG_SECONDS = 3600.0

#: A 200 body cut off mid-object: what a proxy that drops a connection leaves behind.
MALFORMED_BODY = b'{"data": {"items": [{"id": "1", "name": "trunc'


class FaultMode(enum.StrEnum):
    LATENCY = "latency"
    STATUS_429 = "429"
    STATUS_500 = "500"
    STATUS_502 = "502"
    STATUS_503 = "503"
    STATUS_504 = "504"
    HANG = "hang"
    MALFORMED = "malformed"

    @property
    def status(self) -> int | None:
        """The HTTP status an error mode answers with."""
        return int(self.value) if self.value.isdigit() else None


@dataclass(slots=True)
class Fault:
    """One fault. ``route`` is a route name, a path glob (``/v2/customers/*``) or ``*``."""

    route: str
    mode: FaultMode
    latency_ms: float = 0.0
    retry_after: float | None = None
    #: Apply to the next ``count`` matching requests only; ``None`` until cleared.
    count: int | None = None

    def matches(self, route_name: str | None, path: str) -> bool:
        return (
            self.route == "*" or self.route == route_name or fnmatch.fnmatchcase(path, self.route)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "mode": self.mode.value,
            "latency_ms": self.latency_ms,
            "retry_after": self.retry_after,
            "count": self.count,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fault:
        """Validate a control-API payload; raises ``ValueError`` with a message for the caller.

        Unknown keys are rejected so a typo (``retryAfter``) fails loudly instead of setting a
        fault that silently behaves differently.
        """
        unknown = set(data) - {"route", "mode", "latency_ms", "retry_after", "count"}
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        route = data.get("route", "*")
        if not isinstance(route, str) or not route:
            raise ValueError("route must be a non-empty string")
        try:
            mode = FaultMode(str(data.get("mode")))
        except ValueError:
            modes = ", ".join(m.value for m in FaultMode)
            raise ValueError(f"mode must be one of: {modes}") from None
        latency_ms = _number(data.get("latency_ms", 0), "latency_ms")
        if mode is FaultMode.LATENCY and latency_ms <= 0:
            raise ValueError("latency mode needs latency_ms > 0")
        retry_after = data.get("retry_after")
        if retry_after is not None:
            retry_after = _number(retry_after, "retry_after")
        count = data.get("count")
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 1
        ):
            raise ValueError("count must be a positive integer or null")
        return cls(route, mode, latency_ms, retry_after, count)


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a non-negative number")
    return float(value)


#: Builds the response of an error fault (429/5xx, and 504 after a released hang). Vendor
#: sandboxes pass their own to answer in the vendor's error format.
ErrorResponder = Callable[[web.Request, Fault, int], web.StreamResponse]


def default_error_response(request: web.Request, fault: Fault, status: int) -> web.StreamResponse:
    """A vendor-neutral JSON error."""
    code = "RATE_LIMITED" if status == 429 else "SERVICE_UNAVAILABLE"
    detail = "Rate limit exceeded (sandbox fault)" if status == 429 else "Sandbox fault"
    return web.json_response({"errors": [{"code": code, "detail": detail}]}, status=status)


class FaultRegistry:
    """The faults set on one sandbox, and the count of requests it has seen per route."""

    def __init__(
        self,
        *,
        error_response: ErrorResponder = default_error_response,
        hang_seconds: float = HANG_SECONDS,
    ) -> None:
        self.error_response = error_response
        self.hang_seconds = hang_seconds
        self._faults: list[Fault] = []
        self._requests: Counter[str] = Counter()
        self._release = asyncio.Event()

    def add(self, fault: Fault) -> None:
        """Set a fault, replacing one with the same route and mode."""
        self._faults = [f for f in self._faults if (f.route, f.mode) != (fault.route, fault.mode)]
        self._faults.append(fault)

    def clear(self, route: str | None = None) -> int:
        """Remove every fault (or those of one route) and release hanging requests."""
        before = len(self._faults)
        self._faults = [f for f in self._faults if route is not None and f.route != route]
        self.release_hangs()
        return before - len(self._faults)

    def faults(self) -> list[Fault]:
        return list(self._faults)

    def take(self, route_name: str | None, path: str) -> tuple[float, Fault | None]:
        """The faults a request gets: total added latency (ms) and the deciding fault, if any.
        Consumes one use of each fault applied."""
        latency = 0.0
        decisive: Fault | None = None
        for fault in reversed(self._faults):
            if not fault.matches(route_name, path):
                continue
            if fault.mode is FaultMode.LATENCY:
                latency += fault.latency_ms
            elif decisive is None:
                decisive = fault
            else:
                continue
            self._use(fault)
        return latency, decisive

    def note_request(self, route: str) -> None:
        self._requests[route] += 1

    def request_counts(self) -> dict[str, int]:
        return dict(self._requests)

    def reset_requests(self) -> None:
        self._requests.clear()

    async def hang(self) -> None:
        """Wait until released (fault cleared, app shutting down) or ``hang_seconds``."""
        release = self._release
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.hang_seconds):
                await release.wait()

    def release_hangs(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def _use(self, fault: Fault) -> None:
        if fault.count is None:
            return
        fault.count -= 1
        if fault.count <= 0:
            self._faults = [f for f in self._faults if f is not fault]


FAULTS = web.AppKey("omnigate_sandbox_faults", FaultRegistry)


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def route_key(request: web.Request) -> tuple[str | None, str]:
    """(route name, label for request counts). Counts use the route name, else the route's
    path template (so ``/v2/customers/{id}`` is one bucket), else the raw path."""
    route = request.match_info.route
    name = route.name
    resource = route.resource
    label = name or (resource.canonical if resource is not None else None) or request.path
    return name, label


def fault_middleware() -> Middleware:
    """Middleware applying the app's :data:`FAULTS` to each vendor request. Put it first, so a
    fault answers before authentication or any vendor logic runs."""

    @web.middleware
    async def apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control_path(request.path):
            return await handler(request)
        registry = request.app[FAULTS]
        name, label = route_key(request)
        registry.note_request(label)
        latency_ms, fault = registry.take(name, request.path)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if fault is None:
            return await handler(request)
        if fault.mode is FaultMode.HANG:
            await registry.hang()
            return registry.error_response(request, fault, 504)
        if fault.mode is FaultMode.MALFORMED:
            return web.Response(body=MALFORMED_BODY, status=200, content_type="application/json")
        status = fault.mode.status
        assert status is not None
        response = registry.error_response(request, fault, status)
        if fault.retry_after is not None and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
        return response

    return apply_faults
