"""The report's page: a section per figure, each a chart and the numbers it was drawn from
(a chart to see the shape, a table to quote the figure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from gateway.report import charts

Section = tuple[str, str]

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1d2430; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .period { color: #5b6575; margin-top: 0; }
section { margin: 2.2rem 0; } h2 { border-bottom: 1px solid #d9dee7; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .8rem 0; } td, th { padding: .25rem .7rem;
        border-bottom: 1px solid #eef1f5; text-align: right; }
th:first-child, td:first-child { text-align: left; } .note { color: #5b6575; }
svg { max-width: 100%; height: auto; }
"""


def number(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already formatted (escaped) cells."""
    top = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _channel(name: str | None) -> str:
    return {"online": "online", "in_store": "in store", None: "no channel"}.get(name, str(name))


def loyalty(analytics: dict[str, Any]) -> Section | None:
    figures = analytics.get("loyalty")
    if not figures:
        return None
    earned = {r["channel"]: r["points"] for r in figures["earnedByChannel"]}
    redeemed = {r["channel"]: r["points"] for r in figures["redeemedByChannel"]}
    channels = sorted(set(earned) | set(redeemed), key=lambda c: (c is None, str(c)))
    chart = charts.bars(
        "Points per channel",
        [_channel(c) for c in channels],
        {
            "earned": [earned.get(c, 0) for c in channels],
            "redeemed": [redeemed.get(c, 0) for c in channels],
        },
        ylabel="points",
    )
    rows = [[_channel(c), number(earned.get(c, 0)), number(redeemed.get(c, 0))] for c in channels]
    share = (
        f"<p>{number(figures['crossChannelPoints'])} of {number(figures['redeemedPoints'])} "
        f"redeemed points were earned in the other channel: "
        f"<strong>{percent(figures['crossChannelShare'])}</strong>.</p>"
    )
    return "Loyalty across channels", chart + table(["channel", "earned", "redeemed"], rows) + share


CLASSES = (("omnichannel", "omnichannel"), ("onlineOnly", "online only"),
           ("inStoreOnly", "in store only"))  # fmt: skip


def customers(analytics: dict[str, Any]) -> Section | None:
    unified, classes = analytics.get("customers"), analytics.get("customerClasses")
    if unified is None or classes is None:
        return None
    rows = [(label, classes[key]) for key, label in CLASSES]
    chart = charts.bars(
        "Per customer, by channel class",
        [label for label, _ in rows],
        {
            "revenue (mean)": [c["revenue"]["mean"] or 0 for _, c in rows],
            "average order value (mean)": [c["averageOrderValue"]["mean"] or 0 for _, c in rows],
        },
        ylabel="shop currency",
    )
    cells = [
        [
            escape(label),
            number(c["count"]),
            number(c["revenue"]["mean"]),
            number(c["revenue"]["median"]),
            number(c["orders"]["mean"]),
            number(c["averageOrderValue"]["mean"]),
        ]
        for label, c in rows
    ]
    head = ["class", "customers", "revenue mean", "revenue median", "orders", "AOV"]
    rate = (
        f"<p>{number(unified['count'])} customers bought in the period; "
        f"<strong>{percent(unified['multiSourceShare'])}</strong> are recognised in two or "
        f"more sources, {percent(unified['bothChannelsShare'])} bought in both channels.</p>"
    )
    return "Customers by channel", rate + chart + table(head, cells)


def months(analytics: dict[str, Any]) -> Section | None:
    rows = analytics.get("channelMonths")
    if not rows:
        return None
    labels = [r["month"][:7] for r in rows]
    chart = charts.lines(
        "Channel migration per month",
        labels,
        {
            "store to online": [r["storeToOnline"] for r in rows],
            "online to store": [r["onlineToStore"] for r in rows],
        },
        ylabel="customers",
    )
    cells = [
        [
            escape(label),
            number(r["buyers"]),
            percent(r["crossChannelShare"]),
            number(r["storeToOnline"]),
            number(r["onlineToStore"]),
        ]
        for label, r in zip(labels, rows, strict=True)
    ]
    head = ["month", "buyers", "cross-channel", "store to online", "online to store"]
    return "Cross-channel months", chart + table(head, cells)


def pickup(analytics: dict[str, Any]) -> Section | None:
    rows = analytics.get("pickup")
    if rows is None:
        return None
    if not rows:
        return "Store pickup", "<p class='note'>No pickup hold was made in the period.</p>"
    stores = [r["locationId"] for r in rows]
    chart = charts.bars(
        "Pickup holds per store",
        stores,
        {
            "picked up": [r["completed"] for r in rows],
            "expired": [r["expired"] for r in rows],
            "released": [r["released"] for r in rows],
            "active": [r["active"] for r in rows],
        },
        ylabel="holds",
        horizontal=True,
    )
    cells = [
        [
            escape(r["locationId"]),
            number(r["holds"]),
            number(r["unitsPickedUp"]),
            percent(r["conversionRate"]),
            percent(r["expiryRate"]),
        ]
        for r in rows
    ]
    head = ["store", "holds", "units picked up", "conversion", "expiry"]
    return "Store pickup", chart + table(head, cells)


def stock(analytics: dict[str, Any]) -> Section | None:
    rows = analytics.get("stock")
    if rows is None:
        return None
    if not rows:
        return "Stock", "<p class='note'>No stock movement in the retained journal.</p>"
    labels = [f"{r['sku']} @ {r['locationId']}" for r in rows]
    chart = charts.bars(
        "Out-of-stock hours, top SKUs",
        labels,
        {"hours out of stock": [r["outOfStockHours"] for r in rows]},
        ylabel="hours",
        horizontal=True,
    )
    cells = [
        [
            escape(label),
            number(r["unitsSold"]),
            number(r["unitsReceived"]),
            percent(r["sellThrough"]),
            number(float(r["outOfStockHours"]), 1),
        ]
        for label, r in zip(labels, rows, strict=True)
    ]
    head = ["SKU @ store", "sold", "received", "sell-through", "hours out of stock"]
    return "Stock", chart + table(head, cells)


#: Every section, in page order; each returns None when its figure was not asked for.
SECTIONS: list[Callable[[dict[str, Any]], Section | None]] = [
    customers,
    months,
    pickup,
    stock,
    loyalty,
]


def render_report(analytics: dict[str, Any], *, generated_at: datetime) -> str:
    """The whole page for one ``analytics`` answer."""
    since = datetime.fromisoformat(analytics["from"])
    until = datetime.fromisoformat(analytics["to"])
    where = analytics.get("locationIds")
    scope = "every location" if not where else "locations " + ", ".join(map(escape, where))
    parts = []
    for make in SECTIONS:
        section = make(analytics)
        if section is not None:
            title, body = section
            parts.append(f"<section><h2>{escape(title)}</h2>{body}</section>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<link rel='icon' href='data:,'>"
        f"<title>Omnigate report {since:%Y-%m-%d} to {until:%Y-%m-%d}</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Omnichannel report</h1>"
        f"<p class='period'>From {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC, "
        f"{scope}. Generated {generated_at:%Y-%m-%d %H:%M} UTC from the unified data.</p>"
        + "".join(parts)
        + "</body></html>"
    )
