"""Signed webhook delivery from a sandbox to the gateway.

A sandbox must sign exactly like its vendor, or the gateway's verification would be tested
against a fake of our own making. Both signatures are base64 HMAC-SHA256 over raw bytes:
Shopify over the body, Square over the notification URL followed by the body.

Deliveries are recorded (bounded history) so tests can assert what was sent, including when no
target URL is configured: a sandbox used without a gateway still records its events. A delivery
never raises and never outlasts its timeout, so a control request that triggers one cannot hang
on an unreachable gateway.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

log = logging.getLogger("omnigate.sandboxes.base.webhooks")

SHOPIFY_SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
SQUARE_SIGNATURE_HEADER = "x-square-hmacsha256-signature"

#: Given the notification URL and the exact body bytes, the headers that sign the delivery.
Signer = Callable[[str, bytes], Mapping[str, str]]


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    """The digest both vendors sign with (our own, not the gateway's verifier's helper)."""
    return hmac.new(key, message, hashlib.sha256).digest()


def sign_shopify(secret: str | bytes, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64(HMAC-SHA256(app client secret, raw body))."""
    digest = _hmac_sha256(_key(secret), body)
    return base64.b64encode(digest).decode("ascii")


def sign_square(key: str | bytes, url: str, body: bytes) -> str:
    """``x-square-hmacsha256-signature``: base64(HMAC-SHA256(signature key, URL + raw body))."""
    digest = _hmac_sha256(_key(key), url.encode() + body)
    return base64.b64encode(digest).decode("ascii")


def shopify_signer(secret: str | bytes) -> Signer:
    def sign(url: str, body: bytes) -> Mapping[str, str]:
        return {SHOPIFY_SIGNATURE_HEADER: sign_shopify(secret, body)}

    return sign


def square_signer(key: str | bytes, notification_url: str | None = None) -> Signer:
    """Square signs with the subscription's notification URL. That is normally the delivery
    URL; pass ``notification_url`` when the gateway is known by another address (a proxy)."""

    def sign(url: str, body: bytes) -> Mapping[str, str]:
        return {SQUARE_SIGNATURE_HEADER: sign_square(key, notification_url or url, body)}

    return sign


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempted delivery. ``status`` is ``None`` when nothing answered (no URL set,
    timeout, connection refused); ``error`` then says which."""

    url: str | None
    status: int | None
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    elapsed: float = 0.0

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class WebhookSender:
    """Signs and POSTs webhook bodies; one per sandbox.

    ``url`` is the default target (it may be set later, or never). :meth:`send` awaits the
    delivery; :meth:`dispatch` starts it in the background for control routes that should
    answer at once, and :meth:`drain` waits for those.
    """

    def __init__(
        self,
        sign: Signer | None = None,
        *,
        url: str | None = None,
        timeout: float = 5.0,
        history: int = 1000,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.deliveries: deque[Delivery] = deque(maxlen=history)
        self._sign = sign
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Delivery]] = set()

    async def send(
        self, url: str | None, body: bytes, headers: Mapping[str, str] | None = None
    ) -> Delivery:
        """Sign and deliver ``body`` to ``url`` (or the default URL); record and return the
        outcome. Without any URL the delivery is only recorded."""
        target = url or self.url
        sent = {"Content-Type": "application/json", **(headers or {})}
        if self._sign is not None and target is not None:
            sent.update(self._sign(target, body))
        if target is None:
            return self._record(Delivery(None, None, body, sent, error="no target url"))
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            async with (
                asyncio.timeout(self.timeout),
                self._client().post(target, data=body, headers=sent) as response,
            ):
                await response.read()
                status = response.status
        except TimeoutError:
            error = "timeout"
        except aiohttp.ClientError as exc:
            error = type(exc).__name__
        elapsed = time.perf_counter() - started
        log.info("webhook to %s -> %s in %.3fs", target, status or error, elapsed)
        return self._record(Delivery(target, status, body, sent, error, elapsed))

    def dispatch(
        self, url: str | None, body: bytes, headers: Mapping[str, str] | None = None
    ) -> asyncio.Task[Delivery]:
        """Deliver in the background; the task is kept until done so it is never lost."""
        task = asyncio.create_task(self.send(url, body, headers))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait for every background delivery started so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def close(self) -> None:
        await self.drain()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def attach(self, app: web.Application) -> None:
        """Close this sender (after pending deliveries) when ``app`` is cleaned up."""

        async def _close(_: web.Application) -> None:
            await self.close()

        app.on_cleanup.append(_close)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    def _record(self, delivery: Delivery) -> Delivery:
        self.deliveries.append(delivery)
        return delivery
