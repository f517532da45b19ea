"""A local Lightspeed for the demo stack: two customers (one shares its email with a Shopify
customer of the demo world, so identity resolution joins them; one is known nowhere else), its
``GET /api/customers`` and a control route that changes a customer and delivers the signed
``customer.updated`` webhook, answering with the gateway's status."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.vendors.lightspeed.wire import SIGNATURE_HEADER, TOPIC_HEADER, sign

#: The one customer of the fake that no other system knows.
LONE_EMAIL = "lee.only@pos.example"
PAGE_SIZE = 1  # two customers, two pages: the connector follows ``next_page``


def shared_customer(world: Any) -> Any:
    """The demo world's first Shopify customer whose email no other record carries."""
    emails = Counter(
        e.lower()
        for e in (
            *(c.email for c in world.shopify_customers),
            *(c.email_address for c in world.square_customers),
            *(p.email for p in world.klaviyo_profiles),
        )
        if e
    )
    return next(c for c in world.shopify_customers if c.email and emails[c.email.lower()] == 1)


def create_sandbox(
    world: Any,
    *,
    api_key: str,
    webhook_secret: str,
    webhook_url: str,
    sandbox_clock: Any = None,
) -> web.Application:
    def now() -> str:
        moment = sandbox_clock.now() if sandbox_clock is not None else datetime.now(UTC)
        return str(moment.isoformat())

    twin = shared_customer(world)
    customers: dict[str, dict[str, Any]] = {
        "LS-1": {
            "id": "LS-1",
            "first_name": twin.first_name,
            "last_name": twin.last_name,
            "email": twin.email.upper(),  # as a cashier typed it
            "phone": None,
            "updated_at": world.now.isoformat(),
        },
        "LS-2": {
            "id": "LS-2",
            "first_name": "Lee",
            "last_name": "Only",
            "email": LONE_EMAIL,
            "phone": None,
            "updated_at": world.now.isoformat(),
        },
    }
    events = 0

    async def list_customers(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {api_key}":
            return web.json_response({"error": "unauthorized"}, status=401)
        query = request.query
        found = list(customers.values())
        if ids := query.getall("id", []):
            found = [c for c in found if c["id"] in ids]
        if emails := [e.lower() for e in query.getall("email", [])]:
            found = [c for c in found if (c["email"] or "").lower() in emails]
        if phones := query.getall("phone", []):
            found = [c for c in found if c["phone"] in phones]
        if since := query.get("updated_since"):
            found = [c for c in found if c["updated_at"] > since]
        page = int(query.get("page", "1"))
        chunk = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(found)
        return web.json_response({"customers": chunk, "next_page": page + 1 if more else None})

    async def change_customer(request: web.Request) -> web.Response:
        nonlocal events
        customer = customers[request.match_info["id"]]
        customer.update(await request.json())
        customer["updated_at"] = now()
        events += 1
        body = json.dumps({"event_id": f"evt-{events}", "customer": customer}).encode()
        headers = {
            "Content-Type": "application/json",
            TOPIC_HEADER: "customer.updated",
            SIGNATURE_HEADER: sign(webhook_secret, body),
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(webhook_url, data=body, headers=headers) as answer,
        ):
            return web.json_response({"status": answer.status, "answer": await answer.json()})

    app = web.Application()
    app.router.add_get("/api/customers", list_customers)
    app.router.add_post("/_sandbox/customers/{id}", change_customer)
    return app
