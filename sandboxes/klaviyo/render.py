"""Demo records in Klaviyo's JSON:API wire format (revision 2026-07-15).

Everything a response carries is shaped after the component schemas of
``shared/specs/klaviyo/*.json``; the contract tests validate every response against them.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from connectors.records import Consent, ConsentState
from sandboxes.demo.world import KlaviyoEvent, KlaviyoMetric, KlaviyoProfile
from sandboxes.klaviyo.store import ImportJob

MEDIA_TYPE = "application/vnd.api+json"

#: Klaviyo knows three consent values. A pending double opt-in is not yet a subscription, and
#: "unknown" is what Klaviyo calls never subscribed.
_CONSENT: dict[ConsentState, str] = {
    ConsentState.SUBSCRIBED: "SUBSCRIBED",
    ConsentState.UNSUBSCRIBED: "UNSUBSCRIBED",
    ConsentState.NEVER_SUBSCRIBED: "NEVER_SUBSCRIBED",
    ConsentState.PENDING: "NEVER_SUBSCRIBED",
    ConsentState.UNKNOWN: "NEVER_SUBSCRIBED",
}

#: Integration objects of the metrics (Klaviyo's own email metrics, the Shopify integration's).
_INTEGRATIONS: dict[str, dict[str, str]] = {
    "Klaviyo": {"object": "integration", "id": "0rG4eQ", "name": "Klaviyo", "category": "Internal"},
    "Shopify": {
        "object": "integration",
        "id": "0eMvjm",
        "name": "Shopify",
        "category": "eCommerce",
    },
}


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds")


def json_safe(value: Any) -> Any:
    """Event and profile properties as JSON (money as numbers, times as ISO strings)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return value


def respond(document: Mapping[str, Any] | None, status: int = 200) -> web.Response:
    if document is None:
        return web.Response(status=status, content_type=MEDIA_TYPE)
    return web.json_response(document, status=status, content_type=MEDIA_TYPE)


def error(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    parameter: str | None = None,
    pointer: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Klaviyo's error document: ``{"errors": [{id, status, code, title, detail, source}]}``."""
    source: dict[str, str] = {}
    if parameter is not None:
        source["parameter"] = parameter
    if pointer is not None:
        source["pointer"] = pointer
    item: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "status": status,
        "code": code,
        "title": title,
        "detail": detail,
        "source": source,
        "links": {},
        "meta": {},
    }
    response = web.json_response({"errors": [item]}, status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def invalid(
    detail: str, *, parameter: str | None = None, pointer: str | None = None
) -> web.Response:
    return error(400, "invalid", "Invalid input.", detail, parameter=parameter, pointer=pointer)


def not_found(detail: str) -> web.Response:
    return error(404, "not_found", "Not found.", detail)


def throttled(retry_after: float) -> web.Response:
    """Klaviyo sends whole seconds; a fault set with a fraction (tests) is passed through."""
    unit = "second" if retry_after == 1 else "seconds"
    return error(
        429,
        "throttled",
        "Request was throttled.",
        f"Request was throttled. Expected available in {retry_after:g} {unit}.",
        headers={"Retry-After": f"{retry_after:g}"},
    )


# --- resources --------------------------------------------------------------------------------


def _email_marketing(consent: Consent) -> dict[str, Any]:
    moment = iso(consent.updated_at)
    method, _, detail = (consent.method or "").partition(":")
    suppression = (
        [{"reason": "HARD_BOUNCE", "timestamp": moment or iso(datetime(2020, 1, 1, tzinfo=UTC))}]
        if consent.suppressed
        else []
    )
    return {
        "can_receive_email_marketing": consent.can_receive and not consent.suppressed,
        "consent": _CONSENT[consent.state],
        "consent_timestamp": moment,
        "last_updated": moment,
        "method": method or None,
        "method_detail": detail,
        "custom_method_detail": None,
        "double_optin": consent.state is ConsentState.PENDING or None,
        "suppression": suppression,
        "list_suppressions": [],
    }


def _sms_marketing(consent: Consent) -> dict[str, Any]:
    moment = iso(consent.updated_at)
    method, _, detail = (consent.method or "").partition(":")
    return {
        "can_receive_sms_marketing": consent.can_receive,
        "consent": _CONSENT[consent.state],
        "consent_timestamp": moment,
        "method": method or None,
        "method_detail": detail,
        "last_updated": moment,
    }


def subscriptions(profile: KlaviyoProfile) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    if profile.email:
        channels["email"] = {"marketing": _email_marketing(profile.email_consent)}
    if profile.phone_number:
        sms = profile.sms_consent or Consent(ConsentState.NEVER_SUBSCRIBED)
        channels["sms"] = {"marketing": _sms_marketing(sms)}
    return channels


def _location(profile: KlaviyoProfile) -> dict[str, Any]:
    address = profile.address
    if address is None:
        return {}
    return {
        "address1": address.line1,
        "address2": address.line2,
        "city": address.city,
        "country": address.country_code,
        "region": address.region,
        "zip": address.postal_code,
        "timezone": None,
        "ip": None,
    }


def profile_resource(
    profile: KlaviyoProfile,
    base: str,
    *,
    last_event_date: datetime | None,
    with_subscriptions: bool,
    fields: set[str] | None = None,
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "email": profile.email,
        "phone_number": profile.phone_number,
        "external_id": None,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "organization": None,
        "locale": None,
        "title": None,
        "image": None,
        "created": iso(profile.created),
        "updated": iso(profile.updated),
        "last_event_date": iso(last_event_date),
        "location": _location(profile),
        "properties": json_safe(profile.properties),
    }
    if with_subscriptions:
        attributes["subscriptions"] = subscriptions(profile)
    if fields is not None:
        # ``fields[profile]=subscriptions.email`` keeps the whole top-level attribute.
        wanted = {f.split(".")[0] for f in fields}
        attributes = {k: v for k, v in attributes.items() if k in wanted}
    return {
        "type": "profile",
        "id": profile.id,
        "attributes": attributes,
        "relationships": {
            "lists": {"links": _relationship_links(base, "profiles", profile.id, "lists")},
            "segments": {"links": _relationship_links(base, "profiles", profile.id, "segments")},
        },
        "links": {"self": f"{base}/api/profiles/{profile.id}/"},
    }


def _relationship_links(base: str, kind: str, id_: str, name: str) -> dict[str, str]:
    return {
        "self": f"{base}/api/{kind}/{id_}/relationships/{name}/",
        "related": f"{base}/api/{kind}/{id_}/{name}/",
    }


def event_resource(event: KlaviyoEvent, base: str, fields: set[str] | None) -> dict[str, Any]:
    properties = json_safe(event.properties)
    if event.value is not None:
        properties.setdefault("$value", float(event.value))
    attributes: dict[str, Any] = {
        "timestamp": int(event.time.timestamp()),
        "event_properties": properties,
        "datetime": iso(event.time),
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"klaviyo-event:{event.id}")),
    }
    if fields is not None:
        attributes = {k: v for k, v in attributes.items() if k in fields}
    return {
        "type": "event",
        "id": event.id,
        "attributes": attributes,
        "relationships": {
            "profile": {
                "data": {"type": "profile", "id": event.profile_id},
                "links": _relationship_links(base, "events", event.id, "profile"),
            },
            "metric": {
                "data": {"type": "metric", "id": event.metric_id},
                "links": _relationship_links(base, "events", event.id, "metric"),
            },
        },
        "links": {"self": f"{base}/api/events/{event.id}/"},
    }


def metric_resource(
    metric: KlaviyoMetric, base: str, created: datetime, fields: set[str] | None
) -> dict[str, Any]:
    integration = _INTEGRATIONS.get(
        metric.integration,
        {"object": "integration", "id": "custom", "name": metric.integration, "category": "API"},
    )
    attributes: dict[str, Any] = {
        "name": metric.name,
        "created": iso(created),
        "updated": iso(created),
        "integration": dict(integration),
    }
    if fields is not None:
        attributes = {k: v for k, v in attributes.items() if k in fields}
    return {
        "type": "metric",
        "id": metric.id,
        "attributes": attributes,
        "links": {"self": f"{base}/api/metrics/{metric.id}/"},
    }


def job_resource(job: ImportJob, base: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "status": job.status,
        "created_at": iso(job.created_at),
        "total_count": job.total_count,
        "completed_count": job.completed_count,
        "failed_count": job.failed_count,
    }
    if job.started_at is not None:
        attributes["started_at"] = iso(job.started_at)
    if job.completed_at is not None:
        attributes["completed_at"] = iso(job.completed_at)
    path = f"{base}/api/profile-bulk-import-jobs/{job.id}"
    return {
        "type": "profile-bulk-import-job",
        "id": job.id,
        "attributes": attributes,
        "relationships": {
            "lists": {
                "data": [],
                "links": {"self": f"{path}/relationships/lists/", "related": f"{path}/lists/"},
            },
            "profiles": {
                "data": [{"type": "profile", "id": pid} for pid in job.profile_ids],
                "links": {
                    "self": f"{path}/relationships/profiles/",
                    "related": f"{path}/profiles/",
                },
            },
        },
        "links": {"self": f"{path}/"},
    }


def collection(
    data: Iterable[Mapping[str, Any]],
    *,
    self_link: str,
    next_link: str | None,
    prev_link: str | None,
    included: list[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    links: dict[str, str] = {"self": self_link}
    if next_link is not None:
        links["next"] = next_link
    if prev_link is not None:
        links["prev"] = prev_link
    document: dict[str, Any] = {"data": list(data), "links": links}
    if included:
        document["included"] = included
    return document
