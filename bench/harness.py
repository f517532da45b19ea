"""What the benchmarks share: percentiles, and the vendor sandboxes each in a process of its
own (as real vendors run on machines of their own, so that no sandbox's CPU delays another's
answer or the gateway's event loop), and gateways in processes of their own."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import socket
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.app import create_app
from gateway.demo import DemoStack, demo_settings, sandbox_apps, webhooks_base
from gateway.settings import Settings
from sandboxes.base.server import run_app
from sandboxes.demo import generate
from tests.support import make_settings, serve

print = functools.partial(print, flush=True)

VENDORS = ("shopify", "square", "klaviyo")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _serve_sandbox(conn: Connection, vendor: str, people: int, hooks: str) -> None:
    async def run() -> None:
        world = generate(people=people, seed=make_settings().demo_seed)
        async with run_app(sandbox_apps(world, hooks)[vendor]) as url:
            conn.send(url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(run())


@contextlib.contextmanager
def sandbox_processes(people: int, gateway_url: str) -> Iterator[DemoStack]:
    """The three sandboxes, delivering their webhooks to ``gateway_url``."""
    settings = make_settings()
    hooks = webhooks_base(settings, gateway_url)
    spawn = multiprocessing.get_context("spawn")
    children = []
    for vendor in VENDORS:
        parent, child = spawn.Pipe()
        process = spawn.Process(
            target=_serve_sandbox, args=(child, vendor, people, hooks), daemon=True
        )
        process.start()
        children.append((vendor, parent, process))
    try:
        urls = {vendor: parent.recv() for vendor, parent, _ in children}
        world = generate(people=people, seed=settings.demo_seed)
        yield DemoStack(
            world=world, settings=demo_settings(settings, world, urls, hooks), sandboxes=urls
        )
    finally:
        for _, parent, process in children:
            parent.send("stop")
            process.join(timeout=10)


def free_port() -> int:
    """A loopback port nobody listens on now, for a gateway process to bind: its URL must be
    known before it starts (the sandboxes deliver their webhooks to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_gateway(conn: Connection, settings: Settings, port: int) -> None:
    async def run() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(1024)
        async with serve(create_app(settings), sock) as url:
            conn.send(url)
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)

    asyncio.run(run())


@contextlib.contextmanager
def gateway_process(settings: Settings, port: int) -> Iterator[str]:
    """A gateway on ``port`` in a process of its own; yields its URL once it listens."""
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    process = spawn.Process(target=_serve_gateway, args=(child, settings, port), daemon=True)
    process.start()
    try:
        yield str(parent.recv())
    finally:
        parent.send("stop")
        process.join(timeout=20)
        if process.is_alive():
            process.kill()
