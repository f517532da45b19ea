"""The one HTTP client every vendor connector uses.

Every vendor call shares the same failure handling so that the gateway degrades the same way
whichever upstream misbehaves: timeouts per attempt, retries with full-jitter exponential
backoff that honour ``Retry-After``, a circuit breaker, a small error taxonomy
(:mod:`connectors.errors`) and a request counter that tests and benchmarks read.

Each attempt goes on the wire through a transport (:mod:`connectors.transport`): aiohttp's
for real calls, an in-process one for tests of this policy. Connections are pooled per vendor
(``max_connections``, sized from the vendor's own limits). An attempt first waits for a free
connection, for as long as the work's deadline allows (:mod:`connectors.deadline`), and only
then starts its own clock: waiting for the local pool says nothing about the vendor, so it is
neither part of the attempt's timeout nor a failure for the circuit breaker. (aiohttp's own
``connect`` and ``total`` timeouts would include that wait, so its transport sets only
``sock_connect``, and the attempt is bounded here, around the transport's ``send``.)

The deadline also bounds the rest: an attempt gets at most what is left of it, a backoff or
``Retry-After`` wait that would pass it is not taken, and nothing starts once it has passed;
each of those raises :class:`UpstreamTimeout`. An attempt the deadline cuts short counts
against the circuit only if the vendor had already been silent for ``slow_answer`` seconds.

Retries only ever repeat idempotent calls. GET/HEAD/PUT/DELETE/OPTIONS are idempotent by HTTP's
definition; a POST is repeated only when the caller says so (``idempotent=True``), which vendor
*read* endpoints that happen to use POST do (Shopify GraphQL queries, Square searches and batch
retrieves). A 500 is not retried by default: unlike 502/503/504 it usually reports a bug that the
same request will hit again, but it still counts against the circuit.

Vendors that report errors inside a 200 (Shopify answers ``THROTTLED`` with HTTP 200 too) plug in
a ``classify`` callable, or override :meth:`HttpClient.classify`, to turn such a body into an
:class:`UpstreamRateLimited` (retried, honouring its ``retry_after``) or another error.

Logs carry method, operation, outcome and timing only: paths, headers and bodies hold tokens
and personal data. So does each call's trace span (one per logical call, retries included):
connector, operation, method, the last HTTP status, attempts, retries and outcome, on the
tracer of :attr:`HttpConfig.tracer` (none without one). Only OpenTelemetry's API is
imported here: the SDK is the gateway's.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json as jsonlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from types import MappingProxyType
from typing import Any

from aiohttp.typedefs import Query
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from yarl import URL

from connectors import deadline
from connectors.breaker import CircuitBreaker, CircuitState
from connectors.errors import (
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.metrics import DEFAULT_COUNTER, RequestCounter
from connectors.records import Source
from connectors.retry import IDEMPOTENT_METHODS, RETRY_STATUSES, backoff_delay, parse_retry_after
from connectors.tracing import parent_dropped
from connectors.transport import (
    AiohttpTransport,
    ConnectionFailed,
    ConnectTimeout,
    Request,
    Transport,
    TransportError,
)

log = logging.getLogger("omnigate.connectors.http")

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Classifier",
    "HttpClient",
    "HttpConfig",
    "HttpResponse",
    "Sleep",
    "backoff_delay",
    "parse_retry_after",
]


Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """Transport settings of one connector. Timeouts are per attempt, in seconds, and start
    once the attempt has a connection from the pool."""

    base_url: str
    #: Opening the socket (TCP, TLS) to the vendor; not the wait for a pooled connection.
    connect_timeout: float = 2.0
    #: One attempt, from holding a connection to the last byte of the answer.
    total_timeout: float = 10.0
    max_retries: int = 3
    backoff_base: float = 0.2
    backoff_max: float = 5.0
    #: Connections to the vendor at once; more attempts queue for one within their deadline.
    max_connections: int = 50
    default_headers: dict[str, str] = field(default_factory=dict)
    breaker_failures: int = 5
    breaker_reset: float = 30.0
    #: Upper bound on a server's ``Retry-After``, so one header cannot park a request for hours.
    retry_after_max: float = 30.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    #: An attempt the work's deadline cuts short counts against the circuit only when the
    #: vendor had been silent this long: longer than a healthy vendor takes, whoever's clock
    #: ran out. A shorter cut is the deadline's doing (e.g. an attempt started with little
    #: time left), not the vendor's.
    slow_answer: float = 2.0
    #: Where each call's span goes (the gateway's tracer); ``None``: no spans.
    tracer: Tracer | None = None


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A completed exchange. ``json`` is the parsed body (``None`` when empty or not asked for);
    ``elapsed`` is wall time of the attempt in seconds."""

    status: int
    headers: Mapping[str, str]
    text: str
    json: Any
    elapsed: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Classifier = Callable[[HttpResponse], Exception | None]


@dataclass(slots=True)
class _Call:
    """What one logical call did, for its span: attempts on the wire, the last one's
    outcome (an HTTP status or an error kind) and the retries."""

    attempts: int = 0
    retries: int = 0
    outcome: str | None = None


class _Health(enum.Enum):
    """What an attempt says about the upstream, for the circuit breaker."""

    SUCCESS = "success"
    FAILURE = "failure"
    NEUTRAL = "neutral"


@dataclass(slots=True)
class _Failure:
    error: Exception
    retry: bool
    health: _Health
    retry_after: float | None = None


class HttpClient:
    """One connector's calls to its vendor, with pooling, retries, breaker and counting.

    ``transport`` puts each attempt on the wire: by default an :class:`AiohttpTransport` (one
    pooled session per connector) built from ``config``; tests pass a
    :class:`~connectors.transport.MockTransport` to run this policy in-process. ``sleep``,
    ``clock`` (the breaker's), ``now`` (for HTTP-date ``Retry-After``) and ``rand`` (jitter)
    are injectable so tests can check timing decisions without waiting.
    """

    def __init__(
        self,
        config: HttpConfig,
        *,
        source: Source | str,
        counter: RequestCounter | None = None,
        breaker: CircuitBreaker | None = None,
        classify: Classifier | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
        rand: Callable[[], float] = random.random,
        transport: Transport | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.name = str(source)
        self.counter = counter if counter is not None else DEFAULT_COUNTER
        self.breaker = breaker or CircuitBreaker(
            config.breaker_failures, config.breaker_reset, clock=clock
        )
        self._classifier = classify
        self._sleep = sleep
        self._now = now
        self._rand = rand
        self._base_url = config.base_url.rstrip("/")
        self._origin = URL(self._base_url).origin()
        self._default_headers: Mapping[str, str] = MappingProxyType(dict(config.default_headers))
        self.transport: Transport = (
            transport
            if transport is not None
            else AiohttpTransport(
                connect_timeout=config.connect_timeout, max_connections=config.max_connections
            )
        )
        self._tracer = config.tracer
        self._started = False
        #: One slot per pooled connection: an attempt holds one while it runs, so the
        #: transport's pool never makes an attempt wait, and the wait happens here, outside
        #: its clock.
        self._slots = asyncio.Semaphore(config.max_connections)

    async def start(self) -> None:
        """Open the transport (the real one pools connections to the vendor)."""
        if self._started:
            return
        self._slots = asyncio.Semaphore(self.config.max_connections)
        await self.transport.start()
        self._started = True

    async def close(self) -> None:
        self._started = False
        await self.transport.close()

    async def __aenter__(self) -> HttpClient:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def circuit_state(self) -> str:
        """``closed``, ``open`` or ``half_open``."""
        return self.breaker.state.value

    def classify(self, response: HttpResponse) -> Exception | None:
        """Vendor hook: an error hidden in an otherwise fine-looking response, or ``None``.

        Runs on every response before the status-based rules. Returning
        :class:`UpstreamRateLimited` retries (idempotent calls) after its ``retry_after``;
        :class:`UpstreamUnavailable` retries and counts against the circuit; anything else is
        raised as is.
        """
        return self._classifier(response) if self._classifier is not None else None

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json: Any = None,
        params: Query = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        expect_json: bool = True,
    ) -> HttpResponse:
        """Send one logical call, retrying as the policy allows; raise an ``UpstreamError``.

        ``path`` is relative to the base URL, or an absolute URL on the same origin (the
        ``links.next`` of a paginated answer); another origin is refused so default headers
        (credentials) never leave for a host the configuration did not name.
        """
        if not self._started:
            raise RuntimeError(f"{self.name} HTTP client used before start()")
        method = method.upper()
        call = _Call()
        send = partial(
            self._call,
            method,
            path,
            call,
            operation=operation,
            json=json,
            params=params,
            headers=headers,
            idempotent=idempotent,
            expect_json=expect_json,
        )
        if self._tracer is None or parent_dropped():
            return await send()
        with self._tracer.start_as_current_span(
            f"{self.name} {operation}",
            kind=SpanKind.CLIENT,
            attributes={
                "omnigate.connector": self.name,
                "omnigate.upstream.operation": operation,
                "http.request.method": method,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                response = await send()
            except BaseException as error:
                _end_span(span, call, error)
                raise
            _end_span(span, call, None)
            return response

    async def _call(
        self,
        method: str,
        path: str,
        call: _Call,
        *,
        operation: str,
        json: Any,
        params: Query,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        expect_json: bool,
    ) -> HttpResponse:
        retryable = idempotent if idempotent is not None else method in IDEMPOTENT_METHODS
        url = self._url(path)
        retry = 0
        while True:
            self._refuse_past_deadline(operation, "before sending")
            if self.breaker.state is CircuitState.OPEN:
                raise self._rejected(method, operation)  # at once, without queueing
            async with self._slot(operation):
                self._refuse_past_deadline(operation, "waiting for a free connection")
                if not self.breaker.allow():
                    raise self._rejected(method, operation)
                response, failure = await self._attempt(
                    method,
                    url,
                    operation=operation,
                    json=json,
                    params=params,
                    headers=headers,
                    expect_json=expect_json,
                    attempt=retry + 1,
                    call=call,
                )
            if failure is None:
                assert response is not None
                return response
            if not (retryable and failure.retry and retry < self.config.max_retries):
                raise failure.error
            if self.breaker.state is CircuitState.OPEN:
                # This failure opened the circuit: waiting out a backoff only to be rejected
                # would hide the real error behind "circuit open".
                raise failure.error
            delay = backoff_delay(
                retry,
                base=self.config.backoff_base,
                cap=self.config.backoff_max,
                retry_after=failure.retry_after,
                retry_after_max=self.config.retry_after_max,
                rand=self._rand,
            )
            left = deadline.remaining()
            if left is not None and delay >= left:
                # Waiting would outlast the work this call serves: give up now, not later.
                last = getattr(failure.error, "code", type(failure.error).__name__)
                raise self._error(
                    UpstreamTimeout,
                    operation,
                    f"deadline reached before retry {retry + 1} ({last} after {retry + 1} "
                    f"attempts; the wait would be {delay:.3g}s, {left:.3g}s left)",
                    getattr(failure.error, "status", None),
                ) from failure.error
            self.counter.record_retry(self.name, operation)
            call.retries += 1
            log.info(
                "%s %s %s retry %d in %.3fs",
                self.name,
                method,
                operation,
                retry + 1,
                delay,
                extra={"connector": self.name, "operation": operation, "delay": delay},
            )
            await self._sleep(delay)
            retry += 1

    @contextlib.asynccontextmanager
    async def _slot(self, operation: str) -> AsyncIterator[None]:
        """Hold one of the pool's connections, waiting for one within the deadline. The wait
        is local queueing: it is not an attempt, is not counted and never reaches the
        breaker."""
        left = deadline.remaining()
        try:
            async with asyncio.timeout(left):
                await self._slots.acquire()
        except TimeoutError:
            raise self._past_deadline(operation, "waiting for a free connection") from None
        try:
            yield
        finally:
            self._slots.release()

    def _refuse_past_deadline(self, operation: str, when: str) -> None:
        current = deadline.current()
        if current is not None and current.expired:
            raise self._past_deadline(operation, when)

    def _past_deadline(self, operation: str, when: str) -> UpstreamTimeout:
        log.info(
            "%s %s: deadline passed %s; not sent",
            self.name,
            operation,
            when,
            extra={"connector": self.name, "operation": operation},
        )
        detail = f"deadline passed {when}"
        return UpstreamTimeout(
            f"{self.name} {operation}: {detail}", source=self.source, operation=operation
        )

    def _rejected(self, method: str, operation: str) -> UpstreamUnavailable:
        self.counter.record_rejected(self.name, operation)
        log.debug(
            "%s %s %s rejected: circuit open",
            self.name,
            method,
            operation,
            extra={"connector": self.name, "operation": operation, "method": method},
        )
        return UpstreamUnavailable(
            f"{self.name} is unavailable (circuit open)",
            source=self.source,
            operation=operation,
        )

    async def _attempt(
        self,
        method: str,
        url: str | URL,
        *,
        operation: str,
        json: Any,
        params: Query,
        headers: Mapping[str, str] | None,
        expect_json: bool,
        attempt: int,
        call: _Call,
    ) -> tuple[HttpResponse | None, _Failure | None]:
        """One attempt on the wire; always counted and always reported to the breaker, even
        when cancelled, so a half-open circuit never waits for a trial that was abandoned."""
        outcome = "cancelled"
        health = _Health.NEUTRAL
        started = time.perf_counter()
        response: HttpResponse | None = None
        failure: _Failure | None = None
        # The attempt's own timeout, or what is left of the deadline if that is less.
        budget = deadline.bound(self.config.total_timeout)
        try:
            try:
                response, malformed = await self._send(
                    method,
                    url,
                    json=json,
                    params=params,
                    headers=headers,
                    expect_json=expect_json,
                    started=started,
                    budget=budget,
                )
            except ConnectTimeout:
                outcome = "timeout"  # the vendor did not accept a connection in time
                failure = self._unavailable(operation, "connect timed out")
            except TimeoutError:
                if budget < self.config.total_timeout:
                    outcome = "deadline"
                    failure = self._cut_by_deadline(operation, budget)
                else:
                    outcome = "timeout"
                    failure = self._unavailable(
                        operation, f"timed out after {self.config.total_timeout:g}s"
                    )
            except ConnectionFailed:
                outcome = "connection_error"
                failure = self._unavailable(operation, "connection failed")
            except TransportError as exc:
                outcome = "client_error"
                failure = _Failure(
                    UpstreamBadResponse(
                        f"{self.name} {operation}: request failed ({exc.kind})",
                        source=self.source,
                        operation=operation,
                    ),
                    retry=False,
                    health=_Health.NEUTRAL,
                )
            else:
                outcome = str(response.status)
                failure = self._judge(response, operation, malformed=malformed)
            health = failure.health if failure is not None else _Health.SUCCESS
        finally:
            elapsed = time.perf_counter() - started
            self._report(health)
            self.counter.record(self.name, operation, outcome)
            call.attempts += 1
            call.outcome = outcome
            log.log(
                logging.DEBUG if failure is None and outcome != "cancelled" else logging.WARNING,
                "%s %s %s -> %s in %.3fs (attempt %d)",
                self.name,
                method,
                operation,
                outcome,
                elapsed,
                attempt,
                extra={
                    "connector": self.name,
                    "operation": operation,
                    "method": method,
                    "status": outcome,
                    "elapsed_ms": round(elapsed * 1000, 1),
                    "attempt": attempt,
                },
            )
        return response, failure

    async def _send(
        self,
        method: str,
        url: str | URL,
        *,
        json: Any,
        params: Query,
        headers: Mapping[str, str] | None,
        expect_json: bool,
        started: float,
        budget: float,
    ) -> tuple[HttpResponse, bool]:
        request = Request(method, url, self._headers(headers), json, params)
        # One bound on the whole attempt, connecting and reading a slow body included.
        async with asyncio.timeout(budget):
            raw = await self.transport.send(request)
        body = raw.body
        text = body.decode(raw.charset or "utf-8", errors="replace")
        parsed: Any = None
        malformed = False
        if expect_json and body.strip():
            try:
                parsed = jsonlib.loads(body)
            except ValueError:
                malformed = True
        response = HttpResponse(
            status=raw.status,
            headers=raw.headers,
            text=text,
            json=parsed,
            elapsed=time.perf_counter() - started,
        )
        return response, malformed

    def _judge(self, response: HttpResponse, operation: str, *, malformed: bool) -> _Failure | None:
        """Map a response to ``None`` (usable) or a failure with its retry and health verdict."""
        custom = self.classify(response)
        if custom is not None:
            if isinstance(custom, UpstreamRateLimited):
                return _Failure(
                    custom, retry=True, health=_Health.NEUTRAL, retry_after=custom.retry_after
                )
            if isinstance(custom, UpstreamUnavailable):
                return _Failure(custom, retry=True, health=_Health.FAILURE)
            return _Failure(custom, retry=False, health=_Health.NEUTRAL)
        status = response.status
        if 200 <= status < 300:
            if malformed:
                return _Failure(
                    self._error(UpstreamBadResponse, operation, "malformed JSON body", status),
                    retry=False,
                    health=_Health.NEUTRAL,
                )
            return None
        retry = status in self.config.retry_statuses
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self._wall())
        if status in (401, 403):
            return _Failure(
                self._error(UpstreamAuthError, operation, f"HTTP {status} (credentials)", status),
                retry=False,
                health=_Health.SUCCESS,
            )
        if status == 429:
            return _Failure(
                UpstreamRateLimited(
                    f"{self.name} {operation}: rate limited (HTTP 429)",
                    source=self.source,
                    operation=operation,
                    status=status,
                    retry_after=retry_after,
                ),
                retry=retry,
                health=_Health.NEUTRAL,
                retry_after=retry_after,
            )
        if status >= 500:
            return _Failure(
                self._error(UpstreamUnavailable, operation, f"HTTP {status}", status),
                retry=retry,
                health=_Health.FAILURE,
                retry_after=retry_after,
            )
        return _Failure(
            self._error(UpstreamBadResponse, operation, f"HTTP {status}", status),
            retry=retry,
            health=_Health.SUCCESS,
        )

    def _cut_by_deadline(self, operation: str, budget: float) -> _Failure:
        """The deadline ran out during the attempt. Not retried (there is no time left); a
        failure for the circuit only if the vendor had been silent for ``slow_answer``."""
        return _Failure(
            self._error(
                UpstreamTimeout, operation, f"no answer before the deadline ({budget:.3g}s)", None
            ),
            retry=False,
            health=_Health.FAILURE if budget >= self.config.slow_answer else _Health.NEUTRAL,
        )

    def _unavailable(self, operation: str, reason: str) -> _Failure:
        return _Failure(
            self._error(UpstreamUnavailable, operation, reason, None),
            retry=True,
            health=_Health.FAILURE,
        )

    def _error(
        self, kind: type[UpstreamError], operation: str, detail: str, status: int | None
    ) -> UpstreamError:
        message = f"{self.name} {operation}: {detail}"
        return kind(message, source=self.source, operation=operation, status=status)

    def _report(self, health: _Health) -> None:
        before = self.breaker.state
        if health is _Health.SUCCESS:
            self.breaker.record_success()
        elif health is _Health.FAILURE:
            self.breaker.record_failure()
        else:
            self.breaker.release()
        after = self.breaker.state
        if after is not before:
            # Transitions are rare and what an operator needs; rejections are logged at debug.
            log.log(
                logging.WARNING if after is CircuitState.OPEN else logging.INFO,
                "%s circuit %s -> %s",
                self.name,
                before.value,
                after.value,
                extra={"connector": self.name, "circuit": after.value},
            )

    def _headers(self, extra: Mapping[str, str] | None) -> Mapping[str, str]:
        """The defaults with the call's own headers over them (names compared as HTTP does,
        ignoring case)."""
        if not extra:
            return self._default_headers
        replaced = {name.lower() for name in extra}
        merged = {k: v for k, v in self._default_headers.items() if k.lower() not in replaced}
        merged.update(extra)
        return merged

    def _wall(self) -> datetime:
        return self._now() if self._now is not None else datetime.now(UTC)

    def _url(self, path: str) -> str | URL:
        if path.startswith(("http://", "https://")):
            url = URL(path, encoded=True)
            if url.origin() != self._origin:
                raise ValueError(f"{self.name}: refusing a URL outside {self._origin}")
            return url
        return f"{self._base_url}/{path.lstrip('/')}"


def _end_span(span: Span, call: _Call, error: BaseException | None) -> None:
    """The call's outcome on its span: ``ok`` or the error's code (``UPSTREAM_UNAVAILABLE``;
    ``cancelled`` when the caller gave up on it)."""
    if not span.is_recording():
        return
    span.set_attribute("omnigate.upstream.attempts", call.attempts)
    span.set_attribute("omnigate.upstream.retries", call.retries)
    if call.outcome is not None and call.outcome.isdigit():
        span.set_attribute("http.response.status_code", int(call.outcome))
    if error is None:
        span.set_attribute("omnigate.upstream.outcome", "ok")
        return
    if isinstance(error, UpstreamError):
        outcome = error.code
    elif isinstance(error, asyncio.CancelledError):
        outcome = "cancelled"
    else:
        outcome = type(error).__name__
    span.set_attribute("omnigate.upstream.outcome", outcome)
    span.set_attribute("error.type", type(error).__name__)
    if call.outcome is not None and not call.outcome.isdigit():
        span.set_attribute("omnigate.upstream.failure", call.outcome)
    span.set_status(Status(StatusCode.ERROR, outcome))
