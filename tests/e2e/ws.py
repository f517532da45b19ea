"""A small graphql-transport-ws client over aiohttp's WebSocket client, for tests.

It speaks the protocol as a browser client (graphql-ws) does: ``connection_init`` (with the
token in its payload, or in the upgrade request's header), ``connection_ack``, then any
number of ``subscribe`` operations multiplexed by id, each answered by ``next`` messages and
ended by ``complete`` or ``error``; ``ping`` is answered with ``pong``. Every wait has a
timeout; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

PROTOCOL = "graphql-transport-ws"
TIMEOUT = 10.0


class OperationEnded(Exception):
    """The server ended the operation: ``complete`` (``errors`` empty) or ``error``."""

    def __init__(self, kind: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"operation ended with {kind}: {errors}")
        self.kind = kind
        self.errors = errors

    @property
    def codes(self) -> list[str | None]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class Operation:
    def __init__(self, client: GraphQLWS, op_id: str) -> None:
        self.client = client
        self.id = op_id
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def next(self, wait: float = TIMEOUT) -> dict[str, Any]:
        """The payload of the next ``next`` message (``data``, maybe ``errors``)."""
        message = await asyncio.wait_for(self.messages.get(), wait)
        kind = message["type"]
        if kind == "next":
            payload: dict[str, Any] = message["payload"]
            return payload
        if kind == "error":
            raise OperationEnded(kind, message.get("payload") or [])
        raise OperationEnded(kind, [])

    async def data(self, field: str, wait: float = TIMEOUT) -> Any:
        """``data[field]`` of the next message; its errors, if any, raise."""
        payload = await self.next(wait)
        if payload.get("errors"):
            raise OperationEnded("next", payload["errors"])
        return payload["data"][field]

    async def complete(self) -> None:
        await self.client.send({"id": self.id, "type": "complete"})
        self.client.operations.pop(self.id, None)


class GraphQLWS:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.operations: dict[str, Operation] = {}
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None
        #: Set when the server closed the connection (``close_code`` then says why).
        self.closed = asyncio.Event()

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_json(message)

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> Operation:
        operation = Operation(self, str(next(self._ids)))
        self.operations[operation.id] = operation
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        await self.send({"id": operation.id, "type": "subscribe", "payload": payload})
        return operation

    def start_reading(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if raw.type is not aiohttp.WSMsgType.TEXT:
                    break
                message = raw.json()
                if message.get("type") == "ping":
                    await self.send({"type": "pong"})
                    continue
                operation = self.operations.get(message.get("id", ""))
                if operation is not None:
                    operation.messages.put_nowait(message)
                    if message["type"] in ("complete", "error"):
                        self.operations.pop(operation.id, None)
        finally:
            self.closed.set()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.ws.close()


def small_buffer_socket(addr_info: Any) -> socket.socket:
    """A client socket with a small receive buffer (no autotuning), so a client that stops
    reading pushes back on the server within a few hundred kilobytes (aiohttp's own buffer
    included) rather than megabytes."""
    family, type_, proto, _, _ = addr_info
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


@asynccontextmanager
async def connect(
    base_url: str,
    *,
    token: str | None = None,
    in_header: bool = False,
    small_buffer: bool = False,
    reading: bool = True,
) -> AsyncIterator[GraphQLWS]:
    """An acknowledged connection; ``token`` travels in ``connection_init`` (or, with
    ``in_header``, in the upgrade request's ``Authorization`` header). A refused connection
    raises :class:`OperationEnded` with the close code as its kind. Without ``reading`` the
    client reads nothing until :meth:`GraphQLWS.start_reading` (a stalled client)."""
    url = base_url.replace("http://", "ws://") + "/graphql"
    headers = {"Authorization": f"Bearer {token}"} if token and in_header else {}
    payload = {"Authorization": f"Bearer {token}"} if token and not in_header else {}
    connector = aiohttp.TCPConnector(socket_factory=small_buffer_socket if small_buffer else None)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.ws_connect(
            url, protocols=[PROTOCOL], headers=headers, heartbeat=None, compress=0
        ) as ws,
    ):
        assert ws.protocol == PROTOCOL
        await ws.send_json({"type": "connection_init", "payload": payload})
        ack = await ws.receive(timeout=TIMEOUT)
        if ack.type is not aiohttp.WSMsgType.TEXT:
            raise OperationEnded(f"close {ws.close_code}", [])
        assert ack.json()["type"] == "connection_ack", ack.data
        client = GraphQLWS(ws)
        if reading:
            client.start_reading()
        try:
            yield client
        finally:
            await client.close()
