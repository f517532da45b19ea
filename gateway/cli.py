"""``omnigate``: serve the gateway, run the demo, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import uvicorn

from gateway.logs import configure_logging
from gateway.settings import Settings

log = logging.getLogger("omnigate")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="omnigate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the gateway (demo mode without credentials)")
    serve.add_argument("--host", default=None, help="interface (default: OMNIGATE_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default: OMNIGATE_PORT)")

    demo = sub.add_parser("demo", help="serve the gateway against embedded sandboxes")
    demo.add_argument("--host", default=None)
    demo.add_argument("--port", type=int, default=None)
    demo.add_argument("--people", type=int, default=None, help="people in the demo dataset")

    schema = sub.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument("--output", "-o", default=None, help="write to a file instead")

    args = parser.parse_args(argv)
    settings = Settings()
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)

    if args.command == "schema":
        from schema.build import export_sdl

        sdl = export_sdl()
        if args.output:
            with open(args.output, "w") as fh:
                fh.write(sdl)
        else:
            sys.stdout.write(sdl)
        return 0

    configure_logging(settings.log_level, settings.log_format)
    if args.command == "demo" or settings.demo_mode:
        people = getattr(args, "people", None)
        return asyncio.run(_run_demo(settings, people))
    return asyncio.run(_serve(settings))


async def _serve(settings: Settings) -> int:
    from gateway.app import create_app

    server = uvicorn.Server(_uvicorn_config(create_app(settings), settings))
    await server.serve()
    return 0


async def _run_demo(settings: Settings, people: int | None) -> int:
    from gateway.app import create_app
    from gateway.demo import banner, sandboxes

    gateway_url = f"http://{settings.host}:{settings.port}"
    async with sandboxes(settings, people=people, gateway_url=gateway_url) as stack:
        server = uvicorn.Server(_uvicorn_config(create_app(stack.settings), stack.settings))
        started = asyncio.create_task(server.serve())
        while not server.started and not started.done():
            await asyncio.sleep(0.05)
        if server.started:
            print(banner(stack, gateway_url), flush=True)
        await started
    return 0


def _uvicorn_config(app: object, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_config=None,
        ws="websockets-sansio",
        proxy_headers=False,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
