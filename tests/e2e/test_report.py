"""The HTML report over the demo stack: ``omnigate report`` writes it from a gateway's
answer, the demo serves it at ``/report``, and a refusal is said, not drawn."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Demo

pytestmark = pytest.mark.asyncio(loop_scope="module")


def loyalty_cells(page: str) -> list[str]:
    """The loyalty table's rows as text, to compare with the GraphQL answer."""
    section = page[page.index("Loyalty across channels") :]
    body = section[section.index("<tbody>") : section.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body)


async def test_the_demo_serves_the_report_of_its_own_figures(demo: Demo) -> None:
    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=400), today + timedelta(days=1)
    async with demo.http.get(
        demo.url + "/report", params={"from": since.isoformat(), "to": until.isoformat()}
    ) as answer:
        assert answer.status == 200
        assert answer.headers["Cache-Control"] == "no-store"
        page = await answer.text()
    assert f"From {since} 00:00 to {until} 00:00 UTC" in page
    assert page.count("<svg") >= 1
    assert "<script" not in page  # charts are inline SVG: nothing to run, nothing to load
    assert not re.search(r"(src|href)=.https?:", page)  # nothing loaded from elsewhere
    body = await demo.gql(
        """query($from: DateTime, $to: DateTime) { analytics(from: $from, to: $to) {
               loyalty { earnedByChannel { channel points } } } }""",
        variables={"from": f"{since}T00:00:00Z", "to": f"{until}T00:00:00Z"},
    )
    earned = body["data"]["analytics"]["loyalty"]["earnedByChannel"]
    rows = loyalty_cells(page)
    assert len(rows) == len(earned) > 0
    for row in earned:
        label = {"online": "online", "in_store": "in store"}.get(row["channel"], "no channel")
        assert any(f"<td>{label}</td><td>{row['points']:,}</td>" in r for r in rows), rows


async def test_a_bad_date_is_said_plainly(demo: Demo) -> None:
    async with demo.http.get(demo.url + "/report", params={"from": "yesterday"}) as answer:
        assert answer.status == 400
        assert "--from is not an ISO date" in await answer.text()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_writes_the_page_and_refuses_without_an_internal_token(
    demo: Demo, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    url = demo.url + "/graphql"
    done = await asyncio.to_thread(
        run_cli, "--url", url, "--token", "demo-internal", "--from", "2024-01-01", "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "Omnichannel report" in page
    assert "From 2024-01-01" in page
    refused = await asyncio.to_thread(
        run_cli, "--url", url, "--token", "demo-staff", "-o", str(tmp_path / "no.html")
    )
    assert refused.returncode == 1
    assert "FORBIDDEN" in refused.stderr
    assert not (tmp_path / "no.html").exists()
