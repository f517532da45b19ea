"""Klaviyo JSON:API documents -> domain records, and domain writes -> request bodies.

Consent comes from ``attributes.subscriptions`` (present when the profile was fetched with
``additional-fields[profile]=subscriptions``). A profile fetched without it has unknown consent,
never "not subscribed": absence of data is not a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.klaviyo.filters import parse_datetime
from connectors.klaviyo.properties import DEFAULT_PREFIX, wire_properties
from connectors.klaviyo.source import SOURCE
from connectors.records import Consent, ConsentState, MarketingProfile, ProfileUpdate

_CONSENT_STATES: dict[str, ConsentState] = {
    "SUBSCRIBED": ConsentState.SUBSCRIBED,
    "UNSUBSCRIBED": ConsentState.UNSUBSCRIBED,
    "NEVER_SUBSCRIBED": ConsentState.NEVER_SUBSCRIBED,
    "PENDING": ConsentState.PENDING,
    "DOUBLE_OPT_IN_PENDING": ConsentState.PENDING,
}


class MappingError(ValueError):
    """A document that does not have the shape the spec promises."""


def timestamp(value: object) -> datetime | None:
    """Klaviyo datetimes are ISO-8601 with an offset; anything else is treated as absent."""
    return parse_datetime(value) if isinstance(value, str) else None


def consent_state(value: object) -> ConsentState:
    if not isinstance(value, str):
        return ConsentState.UNKNOWN
    return _CONSENT_STATES.get(value.upper(), ConsentState.UNKNOWN)


def _method(marketing: Mapping[str, Any]) -> str | None:
    method = marketing.get("method")
    if not isinstance(method, str) or not method:
        return None
    detail = marketing.get("method_detail")
    return f"{method}:{detail}" if isinstance(detail, str) and detail else method


def email_consent(subscriptions: Mapping[str, Any]) -> Consent | None:
    """Email marketing consent. A profile is suppressed when Klaviyo lists a global suppression
    (hard bounce, spam complaint, ...); list-level suppressions do not stop all email."""
    marketing = (subscriptions.get("email") or {}).get("marketing")
    if not isinstance(marketing, Mapping):
        return None
    suppression = marketing.get("suppression") or []
    return Consent(
        state=consent_state(marketing.get("consent")),
        can_receive=bool(marketing.get("can_receive_email_marketing")),
        updated_at=timestamp(marketing.get("consent_timestamp"))
        or timestamp(marketing.get("last_updated")),
        method=_method(marketing),
        suppressed=bool(suppression),
    )


def sms_consent(subscriptions: Mapping[str, Any]) -> Consent | None:
    """SMS marketing consent. Klaviyo has no suppression list for SMS; a number that opted out
    is simply ``UNSUBSCRIBED``, so ``suppressed`` stays false."""
    marketing = (subscriptions.get("sms") or {}).get("marketing")
    if not isinstance(marketing, Mapping):
        return None
    return Consent(
        state=consent_state(marketing.get("consent")),
        can_receive=bool(marketing.get("can_receive_sms_marketing")),
        updated_at=timestamp(marketing.get("consent_timestamp"))
        or timestamp(marketing.get("last_updated")),
        method=_method(marketing),
        suppressed=False,
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def profile(resource: Mapping[str, Any]) -> MarketingProfile:
    """One ``profile`` resource object."""
    if resource.get("type") != "profile" or not isinstance(resource.get("id"), str):
        raise MappingError("expected a profile resource with an id")
    attributes = resource.get("attributes")
    if not isinstance(attributes, Mapping):
        raise MappingError("profile resource without attributes")
    subscriptions = attributes.get("subscriptions")
    properties = attributes.get("properties")
    return MarketingProfile(
        source=SOURCE,
        id=resource["id"],
        email=_text(attributes.get("email")),
        phone=_text(attributes.get("phone_number")),
        first_name=_text(attributes.get("first_name")),
        last_name=_text(attributes.get("last_name")),
        email_consent=email_consent(subscriptions) if isinstance(subscriptions, Mapping) else None,
        sms_consent=sms_consent(subscriptions) if isinstance(subscriptions, Mapping) else None,
        properties=dict(properties) if isinstance(properties, Mapping) else {},
        created_at=timestamp(attributes.get("created")),
        updated_at=timestamp(attributes.get("updated")),
    )


def resources(document: object, kind: str) -> list[Mapping[str, Any]]:
    """The ``data`` array of a collection document, checked for its resource type."""
    if not isinstance(document, Mapping) or not isinstance(document.get("data"), list):
        raise MappingError("expected a JSON:API collection document")
    items = document["data"]
    for item in items:
        if not isinstance(item, Mapping) or item.get("type") != kind:
            raise MappingError(f"expected {kind} resources")
    return items


def next_link(document: Mapping[str, Any]) -> str | None:
    links = document.get("links")
    link = links.get("next") if isinstance(links, Mapping) else None
    return link if isinstance(link, str) and link else None


def related_id(resource: Mapping[str, Any], relationship: str) -> str | None:
    """The id in ``relationships.<name>.data`` (events name their profile and metric there)."""
    related = (resource.get("relationships") or {}).get(relationship) or {}
    data = related.get("data") if isinstance(related, Mapping) else None
    value = data.get("id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None


# --- writes -----------------------------------------------------------------------------------


def _meta(unset: Sequence[str]) -> dict[str, Any]:
    return {"patch_properties": {"unset": list(unset)}} if unset else {}


def patch_body(update: ProfileUpdate, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """``PATCH /api/profiles/{id}``: only ``properties`` (and ``unset``) are sent, so fields
    Omnigate does not own (name, consent, location) are never touched."""
    if update.profile_id is None:
        raise ValueError("a PATCH needs the profile id")
    to_set, to_unset = wire_properties(update.properties, prefix)
    data: dict[str, Any] = {
        "type": "profile",
        "id": update.profile_id,
        "attributes": {"properties": to_set},
    }
    meta = _meta(to_unset)
    if meta:
        data["meta"] = meta
    return {"data": data}


def import_profile(update: ProfileUpdate, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """One entry of a bulk import. The id is the identifier when known; otherwise the email,
    which makes Klaviyo update the profile with that email (or create it). Both together could
    conflict when they name different profiles, so the id alone wins."""
    to_set, to_unset = wire_properties(update.properties, prefix)
    attributes: dict[str, Any] = {"properties": to_set}
    entry: dict[str, Any] = {"type": "profile", "attributes": attributes}
    if update.profile_id is not None:
        entry["id"] = update.profile_id
    elif update.email:
        attributes["email"] = update.email
    else:
        raise ValueError("a profile update needs a profile id or an email")
    meta = _meta(to_unset)
    if meta:
        entry["meta"] = meta
    return entry


def bulk_import_body(
    updates: Sequence[ProfileUpdate], prefix: str = DEFAULT_PREFIX
) -> dict[str, Any]:
    """``POST /api/profile-bulk-import-jobs`` (at most 10,000 profiles per job)."""
    return {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {"data": [import_profile(u, prefix) for u in updates]},
            },
        }
    }


def deletion_body(*, email: str | None = None, phone: str | None = None) -> dict[str, Any]:
    """``POST /api/data-privacy-deletion-jobs`` for exactly one identifier, as Klaviyo requires."""
    if (email is None) == (phone is None):
        raise ValueError("a deletion job names exactly one of email or phone")
    attributes = {"email": email} if email is not None else {"phone_number": phone}
    return {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {"profile": {"data": {"type": "profile", "attributes": attributes}}},
        }
    }
