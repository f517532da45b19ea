"""Klaviyo sandbox control routes, under ``/_sandbox/`` (see ``docs/connectors/klaviyo.md``).

They change the sandbox's records the way activity in Klaviyo would (a new subscriber, an email
opened) and show what the connector wrote (properties, bulk jobs, deletions), so tests and the
demo can drive and inspect the fake from outside over HTTP.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from connectors.records import Consent, ConsentState
from sandboxes.base.control import add_control_routes
from sandboxes.klaviyo import render
from sandboxes.klaviyo.filters import parse_datetime
from sandboxes.klaviyo.limits import RateLimit
from sandboxes.klaviyo.state import SANDBOX
from sandboxes.klaviyo.store import KlaviyoStore


def control_routes(app: web.Application) -> None:
    add_control_routes(
        app,
        [
            web.get("/profiles", list_profiles),
            web.post("/profiles", upsert_profile),
            web.post("/events", add_event),
            web.get("/jobs", list_jobs),
            web.get("/deletions", list_deletions),
            web.get("/filters", list_filters),
            web.get("/rate-limits", get_rate_limits),
            web.post("/rate-limits", set_rate_limits),
        ],
    )


def _bad(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        data = await request.json()
    except json.JSONDecodeError:
        return _bad("body must be JSON")
    if not isinstance(data, dict):
        return _bad("body must be a JSON object")
    return data


def _view(store: KlaviyoStore, base: str, pid: str) -> dict[str, Any]:
    profile = store.profiles[pid]
    return render.profile_resource(
        profile, base, last_event_date=store.last_event_date(pid), with_subscriptions=True
    )


async def list_profiles(request: web.Request) -> web.Response:
    """``GET /_sandbox/profiles?email=...|phone=...|id=...`` (at most 100 without a key)."""
    store = request.app[SANDBOX].store
    base = str(request.url.origin())
    query = request.query
    if "id" in query:
        ids = [query["id"]] if query["id"] in store.profiles else []
    elif "email" in query:
        found = store.by_email(query["email"])
        ids = [found.id] if found else []
    elif "phone" in query:
        found = store.by_phone(query["phone"])
        ids = [found.id] if found else []
    else:
        ids = list(store.profiles)[:100]
    return web.json_response(
        {"total": len(store.profiles), "profiles": [_view(store, base, pid) for pid in ids]}
    )


def _consent(value: object) -> Consent | None:
    if value is None:
        return None
    state = ConsentState(str(value).lower())
    subscribed = state is ConsentState.SUBSCRIBED
    return Consent(state=state, can_receive=subscribed, method="API" if subscribed else None)


async def upsert_profile(request: web.Request) -> web.Response:
    """``POST /_sandbox/profiles``: ``{"email", "phone_number", "first_name", "last_name",
    "properties", "email_consent": "subscribed", "sms_consent": ...}``; updates the profile
    with that email (or phone) or creates one."""
    data = await _body(request)
    if isinstance(data, web.Response):
        return data
    store = request.app[SANDBOX].store
    email, phone = data.get("email"), data.get("phone_number")
    if not email and not phone:
        return _bad("email or phone_number is required")
    try:
        email_consent = _consent(data.get("email_consent"))
        sms_consent = _consent(data.get("sms_consent"))
    except ValueError:
        return _bad("consent must be subscribed, unsubscribed, never_subscribed or pending")
    profile = (store.by_email(email) if email else None) or (
        store.by_phone(phone) if phone else None
    )
    created = profile is None
    if profile is None:
        profile = store.create_profile(email=email, phone_number=phone)
    attributes: dict[str, Any] = {
        k: data[k]
        for k in ("email", "phone_number", "first_name", "last_name", "properties")
        if k in data
    }
    store.update_profile(profile, attributes=attributes)
    if email_consent is not None:
        profile.email_consent = email_consent
    if sms_consent is not None:
        profile.sms_consent = sms_consent
    base = str(request.url.origin())
    return web.json_response(
        {"created": created, "profile": _view(store, base, profile.id)},
        status=201 if created else 200,
    )


async def add_event(request: web.Request) -> web.Response:
    """``POST /_sandbox/events``: ``{"profile_id" | "email", "metric": "Opened Email",
    "datetime": ISO-8601 (default now), "properties": {...}}``."""
    data = await _body(request)
    if isinstance(data, web.Response):
        return data
    store = request.app[SANDBOX].store
    profile = (
        store.profiles.get(str(data["profile_id"]))
        if data.get("profile_id")
        else store.by_email(str(data.get("email") or ""))
    )
    if profile is None:
        return _bad("no such profile (give profile_id or email)")
    metric_name = data.get("metric")
    if not isinstance(metric_name, str) or not metric_name:
        return _bad("metric (a metric name such as 'Opened Email') is required")
    at: datetime | None = store.now()
    if data.get("datetime") is not None:
        at = parse_datetime(str(data["datetime"]))
        if at is None:
            return _bad("datetime must be ISO-8601")
    assert at is not None
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        return _bad("properties must be an object")
    event = store.add_event(profile, store.metric_named(metric_name), at, properties)
    return web.json_response(
        {"id": event.id, "profile_id": profile.id, "metric_id": event.metric_id}, status=201
    )


async def list_jobs(request: web.Request) -> web.Response:
    """``GET /_sandbox/jobs``: bulk import jobs, newest last."""
    store = request.app[SANDBOX].store
    return web.json_response(
        {
            "jobs": [
                {
                    "id": job.id,
                    "status": job.status,
                    "total_count": job.total_count,
                    "completed_count": job.completed_count,
                    "failed_count": job.failed_count,
                    "errors": job.errors,
                }
                for job in store.jobs.values()
            ]
        }
    )


async def list_deletions(request: web.Request) -> web.Response:
    """``GET /_sandbox/deletions``: data-privacy deletion requests received."""
    store = request.app[SANDBOX].store
    return web.json_response(
        {
            "deletions": [
                {
                    "requested_at": render.iso(d.requested_at),
                    "identifier": d.identifier,
                    "value": d.value,
                    "deleted_profile_ids": list(d.deleted_profile_ids),
                }
                for d in store.deletions
            ]
        }
    )


async def list_filters(request: web.Request) -> web.Response:
    """``GET /_sandbox/filters``: the recent ``filter`` expressions received, per operation."""
    sandbox = request.app[SANDBOX]
    return web.json_response(
        {"filters": [{"operation": op, "filter": text} for op, text in sandbox.filters]}
    )


def _limits_view(request: web.Request) -> web.Response:
    limits = request.app[SANDBOX].limits
    return web.json_response(
        {
            "enabled": limits.enabled,
            "limits": {
                op: {"burst": limit.burst, "steady": limit.steady}
                for op, limit in sorted(limits.limits.items())
            },
            "throttled": dict(limits.throttled),
        }
    )


async def get_rate_limits(request: web.Request) -> web.Response:
    """``GET /_sandbox/rate-limits``: the windows enforced and the 429s answered so far."""
    return _limits_view(request)


async def set_rate_limits(request: web.Request) -> web.Response:
    """``POST /_sandbox/rate-limits``: ``{"enabled": false}`` or ``{"operation": "get_profiles",
    "burst": 5, "steady": 50}`` (for demos of throttling)."""
    data = await _body(request)
    if isinstance(data, web.Response):
        return data
    limits = request.app[SANDBOX].limits
    if "enabled" in data:
        limits.enabled = bool(data["enabled"])
    if "operation" in data:
        try:
            burst, steady = int(data["burst"]), int(data["steady"])
        except (KeyError, TypeError, ValueError):
            return _bad("burst and steady must be integers")
        if burst < 1 or steady < 1:
            return _bad("burst and steady must be positive")
        limits.limits[str(data["operation"])] = RateLimit(burst, steady)
    limits.reset()
    return _limits_view(request)
