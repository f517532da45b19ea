"""What the container recipe (``Dockerfile``, ``deploy/compose.yaml``) relies on, tested here
since no base image can be pulled on these machines: its start command serves from
environment variables alone, in production, over a MongoDB store; its liveness probe's path
answers, the readiness probe reports the store; logs are JSON lines; SIGTERM stops it
cleanly; and every variable the recipe sets is a setting the gateway reads."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from gateway.settings import reference_table
from tests.support import PRODUCTION_SECRET, listening_socket

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "deploy" / "compose.yaml"


def settings_names() -> set[str]:
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", reference_table(), re.MULTILINE))


def test_the_recipe_sets_only_settings_the_gateway_reads() -> None:
    known = settings_names()
    for path in (DOCKERFILE, COMPOSE):
        named = set(re.findall(r"\b((?:OMNIGATE|MONGODB)_[A-Z0-9_]+)\b", path.read_text()))
        assert named, path
        assert named <= known, (path.name, sorted(named - known))


def test_the_container_starts_the_command_the_package_installs() -> None:
    text = DOCKERFILE.read_text()
    assert 'CMD ["omnigate", "serve"]' in text
    scripts = (ROOT / "pyproject.toml").read_text()
    assert 'omnigate = "gateway.cli:main"' in scripts
    # The image copies every package the wheel is built from.
    for package in ("gateway", "schema", "resolvers", "connectors"):
        assert f"COPY {package} ./{package}" in text


def healthcheck_path() -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/[a-z]+)", DOCKERFILE.read_text())
    assert match, "the Dockerfile's HEALTHCHECK should name a path"
    return match.group(1)


@pytest.mark.mongo
async def test_serve_runs_from_the_environment_alone(secantus_uri: str) -> None:
    sock, url = listening_socket()
    port = sock.getsockname()[1]
    sock.close()  # the child binds it
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OMNIGATE_ENVIRONMENT": "production",
        "OMNIGATE_DEMO": "false",
        "OMNIGATE_HOST": "127.0.0.1",
        "OMNIGATE_PORT": str(port),
        "OMNIGATE_LOG_FORMAT": "json",
        "MONGODB_URI": secantus_uri,
        "OMNIGATE_MONGODB_DATABASE": "deploy_probe",
        "OMNIGATE_CUSTOMER_TOKEN_SECRET": PRODUCTION_SECRET,
        "OMNIGATE_TOKENS": json.dumps({"sf-from-env": {"role": "storefront"}}),
        "OMNIGATE_SYNC_INTERVAL_SECONDS": "0",
    }
    omnigate = Path(sys.executable).parent / "omnigate"
    process = await asyncio.create_subprocess_exec(
        str(omnigate),
        "serve",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession() as http:
            await until_up(http, f"{url}{healthcheck_path()}", process)
            async with http.get(f"{url}/readyz") as resp:
                ready = await resp.json()
            assert ready["store"] == {"kind": "mongo", "reachable": True}, ready
            assert resp.status == 200
            body = {"query": "{ viewer { role } }"}
            headers = {"Authorization": "Bearer sf-from-env"}
            async with http.post(f"{url}/graphql", json=body, headers=headers) as resp:
                answer = await resp.json()
            assert answer == {"data": {"viewer": {"role": "STOREFRONT"}}}
            # Production: no GraphiQL page for a browser.
            async with http.get(f"{url}/graphql", headers={"Accept": "text/html"}) as resp:
                assert "graphiql" not in (await resp.text()).lower()
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    records = [json.loads(line) for line in output.decode().splitlines() if line.strip()]
    assert all({"ts", "level", "logger", "msg"} <= r.keys() for r in records), records[:3]
    # A graceful stop: the lifespan ran its shutdown (background loops, store, connectors
    # closed), then uvicorn exits as the signal asked (status 0, or killed by SIGTERM).
    assert "Application shutdown complete." in [r["msg"] for r in records]
    assert process.returncode in (0, -signal.SIGTERM), output.decode()


async def until_up(
    http: aiohttp.ClientSession, url: str, process: asyncio.subprocess.Process
) -> None:
    for _ in range(300):
        if process.returncode is not None:
            output = await process.stdout.read() if process.stdout else b""
            pytest.fail(f"omnigate serve exited with {process.returncode}: {output.decode()}")
        try:
            async with http.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail(f"{url} never answered 200")
