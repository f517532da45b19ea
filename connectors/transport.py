"""How :class:`~connectors.http.HttpClient` puts one attempt on the wire: the transport seam.

The client decides everything about a call (which attempt, how long it may take, whether to
retry, what the circuit hears, what the answer means); a transport only exchanges one request
for one raw response. Keeping that exchange behind a small protocol, as HTTPX's transports do,
lets the client's policy be tested in-process with :class:`MockTransport` (deterministic,
no sockets, no ports) while :class:`AiohttpTransport` carries every real call and the
loopback tests prove it on the real wire.

What the client relies on from a transport:

* ``send`` returns once the whole body is read, so the client's per-attempt timeout (which it
  applies around ``send``, bounded by the work's deadline) covers connecting, the answer and a
  slow body alike; cancelling ``send`` must abandon the exchange.
* It does no waiting of its own for a pooled connection: the client holds one of its
  ``max_connections`` slots while an attempt runs, so that wait happens outside the attempt's
  clock. (:class:`AiohttpTransport` sizes its pool to the same number.)
* Wire failures are raised as :class:`TransportError` kinds, never as a library's own
  exceptions: :class:`ConnectTimeout` (the vendor did not accept a connection in time),
  :class:`ConnectionFailed` (refused, reset, a body cut off) and plain :class:`TransportError`
  (the request could not be made at all). A ``TimeoutError`` raised inside is left as it is.
* The request's headers are complete (the client has merged its defaults); the response's
  headers are looked up case-insensitively, as HTTP's are.
"""

from __future__ import annotations

import email.message
import inspect
import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiohttp.typedefs import Query
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL


@dataclass(frozen=True, slots=True)
class Request:
    """One attempt as the client sends it. ``url`` is absolute; ``json`` is the body to encode
    (``None``: no body); ``params`` are added to the URL's query."""

    method: str
    url: str | URL
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    params: Query = None

    @property
    def path(self) -> str:
        """The URL's path, for a handler that routes on it."""
        return URL(self.url, encoded=True).path if isinstance(self.url, str) else self.url.path


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What came back, before the client judges it: status, headers (case-insensitive), the
    whole body and the charset the ``Content-Type`` named, if any."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    charset: str | None = None

    @classmethod
    def of_json(
        cls, payload: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> RawResponse:
        """A JSON answer, as a vendor (or aiohttp's ``json_response``) would send it."""
        return cls.of_bytes(
            jsonlib.dumps(payload).encode(),
            status=status,
            headers=headers,
            content_type="application/json; charset=utf-8",
        )

    @classmethod
    def of_bytes(
        cls,
        body: bytes,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> RawResponse:
        """Any body, e.g. one cut off mid-object, with its ``Content-Type``."""
        merged: CIMultiDict[str] = CIMultiDict({"Content-Type": content_type})
        merged.update(headers or {})
        return cls(status, CIMultiDictProxy(merged), body, _charset(merged["Content-Type"]))


def _charset(content_type: str) -> str | None:
    """The ``charset`` parameter of a ``Content-Type``, as aiohttp's ``resp.charset`` reads it."""
    message = email.message.Message()
    message["Content-Type"] = content_type
    return message.get_content_charset()


class TransportError(Exception):
    """The exchange failed on the wire. ``kind`` names the underlying error's class (for the
    log and the message; never its text, which may carry a URL)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class ConnectTimeout(TransportError):
    """The vendor did not accept a connection within the connect timeout."""


class ConnectionFailed(TransportError):
    """The connection was refused, reset or closed before the whole answer arrived."""


class Transport(Protocol):
    """Exchanges one request for one raw response; see the module's docstring for the rules."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, request: Request) -> RawResponse: ...


class AiohttpTransport:
    """The real wire: one pooled ``aiohttp.ClientSession``, opened by :meth:`start`.

    Only aiohttp's ``sock_connect`` timeout is set: its ``connect`` and ``total`` timeouts would
    include the wait for a free pooled connection, which the client keeps outside the
    attempt's clock (and bounds itself, with everything else, around :meth:`send`).
    ``session_factory`` builds the session instead (a test's own connector, say); it receives
    the pool size and the connect timeout.
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        max_connections: int,
        session_factory: Callable[[int, float], aiohttp.ClientSession] | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.max_connections = max_connections
        self._factory = session_factory or _pooled_session
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = self._factory(self.max_connections, self.connect_timeout)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def send(self, request: Request) -> RawResponse:
        session = self._session
        if session is None:
            raise RuntimeError("AiohttpTransport.send before start()")
        try:
            async with session.request(
                request.method,
                request.url,
                json=request.json,
                params=request.params,
                headers=request.headers,
            ) as resp:
                body = await resp.read()
                return RawResponse(resp.status, resp.headers, body, resp.charset)
        except aiohttp.ConnectionTimeoutError as exc:
            raise ConnectTimeout(type(exc).__name__) from exc
        except TimeoutError:
            raise  # another timeout of aiohttp's own: the client's attempt timeout rules it
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ConnectionFailed(type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(type(exc).__name__) from exc


def _pooled_session(max_connections: int, connect_timeout: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout),
    )


Handler = Callable[[Request], Awaitable[RawResponse] | RawResponse]


class MockTransport:
    """An in-process vendor: ``handler`` answers each request (plainly or awaited), or raises a
    :class:`TransportError` to play a wire failure, or waits to play a hang. Every request it
    was sent is kept in :attr:`requests`, in order."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.started = False

    async def send(self, request: Request) -> RawResponse:
        if not self.started:
            raise RuntimeError("MockTransport.send before start()")
        self.requests.append(request)
        answer = self.handler(request)
        if inspect.isawaitable(answer):
            return await answer
        return answer
