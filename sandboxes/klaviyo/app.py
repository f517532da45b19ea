"""A local Klaviyo over the demo world: the endpoints the connector uses, with Klaviyo's rules.

- ``Authorization: Klaviyo-API-Key <key>`` (401 otherwise) and a ``revision`` header (400
  without one, or with a revision newer than the sandbox knows);
- ``filter`` expressions parsed and evaluated, with each endpoint's allowed fields/operators;
- ``page[size]`` bounds, opaque ``page[cursor]`` and ``links.next``/``prev``;
- fixed-window rate limits per endpoint (429, ``Retry-After``, ``throttled`` error document);
- bulk import jobs processed asynchronously, their status readable until complete;
- data-privacy deletion jobs that erase the profile and its events.

Routes are named after the spec's ``operationId`` so faults and rate limits can target them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from sandboxes.base.clock import SandboxClock
from sandboxes.base.control import create_sandbox_app
from sandboxes.base.faults import Fault
from sandboxes.demo.world import DemoWorld, KlaviyoEvent, KlaviyoProfile
from sandboxes.klaviyo import render
from sandboxes.klaviyo.control import control_routes
from sandboxes.klaviyo.limits import FixedWindows, RateLimit
from sandboxes.klaviyo.query import (
    EVENT_FIELDS,
    METRIC_FIELDS,
    PROFILE_FIELDS,
    InvalidFilter,
    compile_filter,
)
from sandboxes.klaviyo.state import SANDBOX, KlaviyoSandbox
from sandboxes.klaviyo.store import DeletionRequest, ImportJob, KlaviyoStore

#: The newest revision this sandbox implements (the spec files' revision).
REVISION = "2026-07-15"
MAX_IMPORT_PROFILES = 10_000
METRICS_PAGE_SIZE = 200


def create_sandbox(
    world: DemoWorld,
    *,
    api_key: str,
    rate_limits: Mapping[str, RateLimit] | None = None,
    enforce_rate_limits: bool = True,
    clock: Callable[[], float] = time.time,
    sandbox_clock: SandboxClock | None = None,
    job_delay: float = 0.05,
) -> web.Application:
    """The sandbox app. ``clock`` drives the rate-limit windows; ``sandbox_clock`` stamps new
    and changed records (the demo shares one between its sandboxes; by default, a clock of
    this sandbox's own with the same rules)."""
    app = create_sandbox_app("klaviyo", middlewares=[_guard], error_response=_fault_response)
    app[SANDBOX] = KlaviyoSandbox(
        store=KlaviyoStore(world, sandbox_clock=sandbox_clock),
        api_key=api_key,
        limits=FixedWindows(rate_limits, clock=clock, enabled=enforce_rate_limits),
        job_delay=job_delay,
    )
    router = app.router
    router.add_get("/api/profiles", get_profiles, name="get_profiles")
    router.add_get("/api/profiles/", get_profiles)
    router.add_get("/api/profiles/{id}", get_profile, name="get_profile")
    router.add_patch("/api/profiles/{id}", update_profile, name="update_profile")
    router.add_post(
        "/api/profile-bulk-import-jobs", bulk_import_profiles, name="bulk_import_profiles"
    )
    router.add_get(
        "/api/profile-bulk-import-jobs/{job_id}",
        get_bulk_import_profiles_job,
        name="get_bulk_import_profiles_job",
    )
    router.add_get("/api/events", get_events, name="get_events")
    router.add_get("/api/metrics", get_metrics, name="get_metrics")
    router.add_post(
        "/api/data-privacy-deletion-jobs",
        request_profile_deletion,
        name="request_profile_deletion",
    )
    control_routes(app)

    async def _stop_jobs(app: web.Application) -> None:
        app[SANDBOX].store.cancel_timers()

    app.on_shutdown.append(_stop_jobs)
    return app


def _fault_response(request: web.Request, fault: Fault, status: int) -> web.StreamResponse:
    """Injected faults answer in Klaviyo's error format too."""
    if status == 429:
        return render.throttled(1 if fault.retry_after is None else fault.retry_after)
    return render.error(
        status,
        "error",
        "A server error occurred.",
        "Sandbox fault: the service is unavailable.",
    )


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authentication, revision and rate limits, in the order Klaviyo applies them."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    sandbox = request.app[SANDBOX]
    authorization = request.headers.get("Authorization", "")
    scheme, _, key = authorization.partition(" ")
    if not authorization:
        return render.error(
            401,
            "not_authenticated",
            "Authentication credentials were not provided.",
            "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
        )
    if scheme != "Klaviyo-API-Key" or key.strip() != sandbox.api_key:
        return render.error(
            401,
            "authentication_failed",
            "Incorrect authentication credentials.",
            "Incorrect authentication credentials.",
        )
    revision = request.headers.get("revision")
    if not revision:
        return render.invalid("The revision header is required.", parameter="revision")
    day = revision.split(".", 1)[0]
    try:
        parsed = datetime.strptime(day, "%Y-%m-%d")
    except ValueError:
        return render.invalid(f"Invalid revision '{revision}'.", parameter="revision")
    if parsed > datetime.strptime(REVISION, "%Y-%m-%d"):
        return render.invalid(
            f"Revision '{revision}' is not supported; the newest is {REVISION}.",
            parameter="revision",
        )
    operation = request.match_info.route.name or _operation_of(request)
    if operation:
        retry_after = sandbox.limits.admit(operation)
        if retry_after is not None:
            return render.throttled(retry_after)
    return await handler(request)


def _operation_of(request: web.Request) -> str | None:
    """Unnamed aliases (a trailing slash) count against their named route's limits."""
    path = request.path.rstrip("/")
    return "get_profiles" if path == "/api/profiles" else None


# --- query parameters -------------------------------------------------------------------------


class BadParameter(Exception):
    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail

    def response(self) -> web.Response:
        return render.invalid(self.detail, parameter=self.parameter)


def _check_params(request: web.Request, allowed: set[str]) -> None:
    for name in request.query:
        if name not in allowed:
            raise BadParameter(name, f"'{name}' is not a valid query parameter.")


def _csv(request: web.Request, name: str, allowed: set[str] | None = None) -> set[str] | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    values = {v.strip() for v in raw.split(",") if v.strip()}
    if allowed is not None:
        unknown = values - allowed
        if unknown:
            raise BadParameter(name, f"'{sorted(unknown)[0]}' is not a valid value for {name}.")
    return values


def _page_size(request: web.Request, default: int, maximum: int) -> int:
    raw = request.query.get("page[size]")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise BadParameter("page[size]", "Page size must be an integer.") from None
    if not 1 <= size <= maximum:
        raise BadParameter("page[size]", f"Page size must be between 1 and {maximum}.")
    return size


def _offset(request: web.Request) -> int:
    raw = request.query.get("page[cursor]")
    if raw is None:
        return 0
    try:
        padded = raw + "=" * (-len(raw) % 4)
        offset = int(base64.urlsafe_b64decode(padded.encode()).decode().removeprefix("o:"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadParameter("page[cursor]", "Invalid page cursor.") from None
    if offset < 0:
        raise BadParameter("page[cursor]", "Invalid page cursor.")
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _base(request: web.Request) -> str:
    return str(request.url.origin())


def _page_links(
    request: web.Request, offset: int, size: int, total: int
) -> tuple[str, str | None, str | None]:
    url = request.url
    next_link = (
        str(url.update_query({"page[cursor]": _cursor(offset + size)}))
        if offset + size < total
        else None
    )
    prev_link = (
        str(url.update_query({"page[cursor]": _cursor(max(0, offset - size))}))
        if offset > 0
        else None
    )
    return str(url), next_link, prev_link


def _filter(request: web.Request, operation: str, fields: Mapping[str, Any]) -> Any:
    text = request.query.get("filter")
    if text is not None:
        request.app[SANDBOX].filters.append((operation, text))
    try:
        return compile_filter(text, fields)
    except InvalidFilter as exc:
        raise BadParameter("filter", str(exc)) from None


# --- profiles ---------------------------------------------------------------------------------

_PROFILE_SORTS = {"id", "created", "updated", "email"}


def _profile_record(profile: KlaviyoProfile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "email": profile.email,
        "phone_number": profile.phone_number,
        "external_id": None,
        "_kx": None,
        "created": profile.created,
        "updated": profile.updated,
    }


def _render_profile(
    request: web.Request, profile: KlaviyoProfile, *, subscriptions: bool, fields: set[str] | None
) -> dict[str, Any]:
    store = request.app[SANDBOX].store
    return render.profile_resource(
        profile,
        _base(request),
        last_event_date=store.last_event_date(profile.id),
        with_subscriptions=subscriptions,
        fields=fields,
    )


def _additional(request: web.Request) -> bool:
    extra = _csv(request, "additional-fields[profile]", {"subscriptions", "predictive_analytics"})
    return bool(extra and "subscriptions" in extra)


async def get_profiles(request: web.Request) -> web.Response:
    try:
        _check_params(
            request,
            {
                "filter",
                "page[size]",
                "page[cursor]",
                "additional-fields[profile]",
                "fields[profile]",
                "sort",
            },
        )
        predicate = _filter(request, "get_profiles", PROFILE_FIELDS)
        size = _page_size(request, default=20, maximum=100)
        offset = _offset(request)
        subscriptions = _additional(request)
        fields = _csv(request, "fields[profile]")
        sort = request.query.get("sort", "id")
        if sort.lstrip("-") not in _PROFILE_SORTS:
            raise BadParameter("sort", f"'{sort}' is not a valid sort field.")
    except BadParameter as exc:
        return exc.response()
    store = request.app[SANDBOX].store
    matches = [p for p in store.profiles.values() if predicate(_profile_record(p))]
    key = sort.lstrip("-")
    matches.sort(
        key=lambda p: (getattr(p, key) is None, getattr(p, key) or "", p.id),
        reverse=sort.startswith("-"),
    )
    page = matches[offset : offset + size]
    self_link, next_link, prev_link = _page_links(request, offset, size, len(matches))
    return render.respond(
        render.collection(
            (_render_profile(request, p, subscriptions=subscriptions, fields=fields) for p in page),
            self_link=self_link,
            next_link=next_link,
            prev_link=prev_link,
        )
    )


async def get_profile(request: web.Request) -> web.Response:
    try:
        _check_params(request, {"additional-fields[profile]", "fields[profile]", "include"})
        subscriptions = _additional(request)
        fields = _csv(request, "fields[profile]")
    except BadParameter as exc:
        return exc.response()
    profile = request.app[SANDBOX].store.profiles.get(request.match_info["id"])
    if profile is None:
        return render.not_found(f"A profile with id {request.match_info['id']} does not exist.")
    resource = _render_profile(request, profile, subscriptions=subscriptions, fields=fields)
    return render.respond({"data": resource, "links": {"self": str(request.url)}})


async def _json_body(request: web.Request) -> dict[str, Any] | web.Response:
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith((render.MEDIA_TYPE, "application/json")):
        return render.error(
            415,
            "unsupported_media_type",
            "Unsupported media type.",
            f"Unsupported media type '{content_type}' in request.",
        )
    try:
        body = json.loads(await request.read())
    except ValueError:
        return render.error(400, "parse_error", "Malformed request.", "JSON parse error.")
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return render.invalid("The request body must be an object with 'data'.", pointer="/data")
    return body


def _unset_list(meta: object) -> list[str] | None:
    """``meta.patch_properties.unset`` (a name or a list of names); ``None`` when malformed."""
    patch = (meta or {}).get("patch_properties") if isinstance(meta, dict) else None
    unset = (patch or {}).get("unset") if isinstance(patch, dict) else None
    if unset is None:
        return []
    if isinstance(unset, str):
        return [unset]
    if isinstance(unset, list) and all(isinstance(u, str) for u in unset):
        return list(unset)
    return None


async def update_profile(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    data = body["data"]
    pid = request.match_info["id"]
    if data.get("type") != "profile":
        return render.invalid("'type' must be 'profile'.", pointer="/data/type")
    if data.get("id") != pid:
        return render.error(
            409,
            "conflict",
            "Conflict.",
            "The id in the body does not match the URL.",
            pointer="/data/id",
        )
    attributes = data.get("attributes")
    if not isinstance(attributes, dict):
        return render.invalid("'attributes' is required.", pointer="/data/attributes")
    if "properties" in attributes and not isinstance(attributes["properties"], dict):
        return render.invalid(
            "'properties' must be an object.", pointer="/data/attributes/properties"
        )
    unset = _unset_list(data.get("meta"))
    if unset is None:
        return render.invalid("Invalid 'unset'.", pointer="/data/meta/patch_properties/unset")
    store = request.app[SANDBOX].store
    profile = store.profiles.get(pid)
    if profile is None:
        return render.not_found(f"A profile with id {pid} does not exist.")
    email = attributes.get("email")
    if email:
        other = store.by_email(str(email))
        if other is not None and other.id != pid:
            return render.error(
                409,
                "duplicate_profile",
                "Conflict.",
                "A profile already exists with one of these identifiers.",
                pointer="/data/attributes/email",
            )
    store.update_profile(profile, attributes=attributes, unset=unset)
    resource = _render_profile(request, profile, subscriptions=_additional(request), fields=None)
    return render.respond({"data": resource, "links": {"self": str(request.url)}})


# --- bulk import ------------------------------------------------------------------------------


async def bulk_import_profiles(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    data = body["data"]
    if data.get("type") != "profile-bulk-import-job":
        return render.invalid("'type' must be 'profile-bulk-import-job'.", pointer="/data/type")
    profiles = ((data.get("attributes") or {}).get("profiles") or {}).get("data")
    if not isinstance(profiles, list) or not profiles:
        return render.invalid(
            "'profiles' must hold at least one profile.", pointer="/data/attributes/profiles/data"
        )
    if len(profiles) > MAX_IMPORT_PROFILES:
        return render.invalid(
            f"A job accepts at most {MAX_IMPORT_PROFILES} profiles.",
            pointer="/data/attributes/profiles/data",
        )
    for index, entry in enumerate(profiles):
        pointer = f"/data/attributes/profiles/data/{index}"
        if not isinstance(entry, dict) or entry.get("type") != "profile":
            return render.invalid("Each entry must be a profile.", pointer=pointer)
        attributes = entry.get("attributes")
        if not isinstance(attributes, dict):
            return render.invalid("'attributes' is required.", pointer=f"{pointer}/attributes")
        if not (entry.get("id") or attributes.get("email") or attributes.get("phone_number")):
            return render.invalid(
                "Each profile needs an id, email or phone_number.", pointer=pointer
            )
        if _unset_list(entry.get("meta")) is None:
            return render.invalid("Invalid 'unset'.", pointer=f"{pointer}/meta")
    sandbox = request.app[SANDBOX]
    store = sandbox.store
    job = ImportJob(id=store.new_job_id(), created_at=store.now(), profiles=profiles)
    store.jobs[job.id] = job
    store.schedule(sandbox.job_delay, lambda: _process(store, job))
    return render.respond(
        {"data": render.job_resource(job, _base(request)), "links": {"self": str(request.url)}},
        status=202,
    )


def _process(store: KlaviyoStore, job: ImportJob) -> None:
    """Apply a job's profiles: by id when given, else by email or phone, creating as needed."""
    job.status = "processing"
    job.started_at = store.now()
    for index, entry in enumerate(job.profiles):
        attributes = dict(entry.get("attributes") or {})
        unset = _unset_list(entry.get("meta")) or []
        pid = entry.get("id")
        profile: KlaviyoProfile | None
        if pid:
            profile = store.profiles.get(str(pid))
            if profile is None:
                job.failed_count += 1
                job.errors.append({"index": str(index), "detail": f"unknown profile {pid}"})
                continue
        else:
            email, phone = attributes.get("email"), attributes.get("phone_number")
            profile = (store.by_email(email) if email else None) or (
                store.by_phone(phone) if phone else None
            )
            if profile is None:
                profile = store.create_profile(email=email, phone_number=phone)
        store.update_profile(profile, attributes=attributes, unset=unset)
        job.completed_count += 1
        job.profile_ids.append(profile.id)
    job.status = "complete"
    job.completed_at = store.now()


async def get_bulk_import_profiles_job(request: web.Request) -> web.Response:
    job = request.app[SANDBOX].store.jobs.get(request.match_info["job_id"])
    if job is None:
        return render.not_found(f"A job with id {request.match_info['job_id']} does not exist.")
    return render.respond(
        {"data": render.job_resource(job, _base(request)), "links": {"self": str(request.url)}}
    )


# --- events and metrics -----------------------------------------------------------------------

_EVENT_SORTS = {"datetime", "timestamp"}


def _event_record(event: KlaviyoEvent) -> dict[str, Any]:
    return {
        "metric_id": event.metric_id,
        "profile_id": event.profile_id,
        "profile": event.profile_id,
        "metric": event.metric_id,
        "datetime": event.time,
        "timestamp": int(event.time.timestamp()),
    }


async def get_events(request: web.Request) -> web.Response:
    try:
        _check_params(
            request,
            {
                "filter",
                "sort",
                "page[size]",
                "page[cursor]",
                "include",
                "fields[event]",
                "fields[metric]",
                "fields[profile]",
                "fields[attribution]",
            },
        )
        predicate = _filter(request, "get_events", EVENT_FIELDS)
        size = _page_size(request, default=200, maximum=1000)
        offset = _offset(request)
        fields = _csv(
            request, "fields[event]", {"datetime", "event_properties", "id", "timestamp", "uuid"}
        )
        include = _csv(request, "include", {"attributions", "metric", "profile"}) or set()
        sort = request.query.get("sort", "datetime")
        if sort.lstrip("-") not in _EVENT_SORTS:
            raise BadParameter("sort", f"'{sort}' is not a valid sort field.")
    except BadParameter as exc:
        return exc.response()
    store = request.app[SANDBOX].store
    # The store keeps events newest first; both sort keys order events the same way.
    matches = [e for e in store.events if predicate(_event_record(e))]
    if not sort.startswith("-"):
        matches.reverse()
    page = matches[offset : offset + size]
    base = _base(request)
    included: list[Mapping[str, Any]] = []
    if "metric" in include:
        for metric_id in dict.fromkeys(e.metric_id for e in page):
            metric = store.metrics.get(metric_id)
            if metric is not None:
                included.append(render.metric_resource(metric, base, store.metrics_created, None))
    if "profile" in include:
        for pid in dict.fromkeys(e.profile_id for e in page):
            profile = store.profiles.get(pid)
            if profile is not None:
                included.append(_render_profile(request, profile, subscriptions=False, fields=None))
    self_link, next_link, prev_link = _page_links(request, offset, size, len(matches))
    return render.respond(
        render.collection(
            (render.event_resource(e, base, fields) for e in page),
            self_link=self_link,
            next_link=next_link,
            prev_link=prev_link,
            included=included,
        )
    )


async def get_metrics(request: web.Request) -> web.Response:
    try:
        _check_params(request, {"filter", "page[cursor]", "fields[metric]", "fields[flow]"})
        predicate = _filter(request, "get_metrics", METRIC_FIELDS)
        offset = _offset(request)
        fields = _csv(
            request, "fields[metric]", {"created", "id", "integration", "name", "updated"}
        )
    except BadParameter as exc:
        return exc.response()
    store = request.app[SANDBOX].store
    base = _base(request)
    rendered = [
        render.metric_resource(m, base, store.metrics_created, None)
        for m in sorted(store.metrics.values(), key=lambda m: m.id)
    ]
    matches = [
        r
        for r in rendered
        if predicate(
            {
                "integration.name": r["attributes"]["integration"]["name"],
                "integration.category": r["attributes"]["integration"]["category"],
            }
        )
    ]
    if fields is not None:
        for resource in matches:
            resource["attributes"] = {
                k: v for k, v in resource["attributes"].items() if k in fields
            }
    page = matches[offset : offset + METRICS_PAGE_SIZE]
    self_link, next_link, prev_link = _page_links(request, offset, METRICS_PAGE_SIZE, len(matches))
    return render.respond(
        render.collection(page, self_link=self_link, next_link=next_link, prev_link=prev_link)
    )


# --- data privacy -----------------------------------------------------------------------------


async def request_profile_deletion(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    data = body["data"]
    if data.get("type") != "data-privacy-deletion-job":
        return render.invalid("'type' must be 'data-privacy-deletion-job'.", pointer="/data/type")
    target = ((data.get("attributes") or {}).get("profile") or {}).get("data")
    if not isinstance(target, dict) or target.get("type") != "profile":
        return render.invalid("A profile is required.", pointer="/data/attributes/profile/data")
    attributes = target.get("attributes") or {}
    given = {
        name: value
        for name, value in (
            ("id", target.get("id")),
            ("email", attributes.get("email")),
            ("phone_number", attributes.get("phone_number")),
        )
        if value
    }
    if len(given) != 1:
        return render.invalid(
            "Exactly one of id, email or phone_number must be provided.",
            pointer="/data/attributes/profile/data",
        )
    ((identifier, value),) = given.items()
    store = request.app[SANDBOX].store
    profile = (
        store.profiles.get(str(value))
        if identifier == "id"
        else store.by_email(str(value))
        if identifier == "email"
        else store.by_phone(str(value))
    )
    deleted = store.delete_profiles([profile.id]) if profile is not None else ()
    store.deletions.append(
        DeletionRequest(
            requested_at=store.now(),
            identifier=identifier,
            value=str(value),
            deleted_profile_ids=deleted,
        )
    )
    return render.respond(None, status=202)
