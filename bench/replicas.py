"""Process model benchmark: one gateway process, two processes (each its own port, as two
containers behind a load balancer would be), and ``uvicorn --workers 2`` (one port, one
supervisor), all over one SecantusDB store and the demo sandboxes, each in a process of its
own. Clients in this process send a storefront's stock and location queries (the hot public
path: HTTP, GraphQL, a store read) for a fixed time at a fixed concurrency and the run prints
requests per second and p50/p99 latency for each model, measured in this one run.

On the 2-core machines here the clients, the store and the gateways share the cores, so the
figures compare the models with each other, not with a production host.

Run: ``make bench`` or ``.venv/bin/python bench/replicas.py [--seconds 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import free_port, gateway_process, pct, print, sandbox_processes
from bench.stock import gateway_settings, secantus, warmed
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS_FILE = "OMNIGATE_BENCH_SETTINGS"
CLIENTS = 32
QUERY = """query($skus: [String!]!) {
  stock(skus: $skus) { sku locationId available sellableForPickup }
  locations(first: 10) { id name }
}"""


def worker_app() -> object:
    """The app of one ``uvicorn --workers`` worker: uvicorn imports a factory by name in each
    worker process, so the settings travel in a file named by the environment."""
    from gateway.app import create_app

    with open(os.environ[SETTINGS_FILE], "rb") as file:
        settings: Settings = pickle.load(file)
    return create_app(settings)


@contextlib.contextmanager
def uvicorn_workers(settings: Settings, port: int, workers: int) -> Iterator[str]:
    with tempfile.NamedTemporaryFile(suffix=".pickle") as file:
        pickle.dump(settings, file)
        file.flush()
        code = (
            "import uvicorn; uvicorn.run('bench.replicas:worker_app', factory=True, "
            f"host='127.0.0.1', port={port}, workers={workers}, lifespan='on', "
            "log_config=None, ws='websockets-sansio', access_log=False)"
        )
        env = {**os.environ, SETTINGS_FILE: file.name, "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


Figures = tuple[float, list[float], int]


async def load(
    http: aiohttp.ClientSession, bases: list[str], skus: list[str], seconds: float
) -> Figures:
    """``CLIENTS`` clients, each sending to the bases in turn, for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    headers = {"Authorization": "Bearer demo-storefront"}

    async def client(n: int) -> None:
        nonlocal errors
        turn = n
        while time.monotonic() < stop:
            base = bases[turn % len(bases)]
            turn += 1
            body = {"query": QUERY, "variables": {"skus": skus[turn % len(skus) :][:3] or skus}}
            started = time.perf_counter()
            async with http.post(f"{base}/graphql", json=body, headers=headers) as resp:
                answer = await resp.json()
            if resp.status != 200 or answer.get("errors"):
                errors += 1
            latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return len(latencies) / (time.monotonic() - started), latencies, errors


def report(name: str, figures: Figures) -> None:
    rate, latencies, errors = figures
    print(
        f"{name:38s} {rate:7.0f} req/s   p50 {pct(latencies, 0.5) * 1000:6.1f} ms   "
        f"p99 {pct(latencies, 0.99) * 1000:6.1f} ms   errors {errors}"
    )


async def main(seconds: float) -> None:
    port = free_port()
    with sandbox_processes(200, f"http://127.0.0.1:{port}") as stack, secantus() as uri:
        skus = sorted({level.sku for level in stack.world.stock})[:30]
        settings = gateway_settings(stack.settings, uri)
        connector = aiohttp.TCPConnector(limit=CLIENTS * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            print(f"{CLIENTS} clients, {seconds:.0f} s each, SecantusDB store:")
            with gateway_process(settings, port) as base:
                await warmed(http, base)  # the stock warmup fills the shared store once
                await load(http, [base], skus, 1)  # and the connections and caches
                report("one process", await load(http, [base], skus, seconds))
            other = free_port()
            with gateway_process(settings, port) as one, gateway_process(settings, other) as two:
                await warmed(http, one)
                await warmed(http, two)
                await load(http, [one, two], skus, 1)
                report("two processes (two ports)", await load(http, [one, two], skus, seconds))
            with uvicorn_workers(settings, port, workers=2) as base:
                await warmed(http, base)
                await load(http, [base], skus, 1)
                report("uvicorn --workers 2 (one port)", await load(http, [base], skus, seconds))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0, help="load time per model")
    asyncio.run(main(parser.parse_args().seconds))
