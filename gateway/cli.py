"""``omnigate``: serve the gateway, run the demo, print the schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import uvicorn

from connectors import vendors as registry
from gateway.logs import configure_logging
from gateway.settings import Settings, StartupError

if TYPE_CHECKING:
    from resolvers.store import Store

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

    sync = sub.add_parser("sync", help="backfill the store from the vendors")
    sync.add_argument("what", choices=["customers"], help="what to sync")
    when = sync.add_mutually_exclusive_group()
    when.add_argument(
        "--since", default=None, help="only records updated since (ISO date or datetime)"
    )
    when.add_argument(
        "--incremental",
        action="store_true",
        help="only what each source changed since its checkpoint (what the scheduler runs)",
    )

    hooks = sub.add_parser("webhooks", help="webhook deliveries kept as dead letters")
    hooks_sub = hooks.add_subparsers(dest="action", required=True)
    listing = hooks_sub.add_parser("dead-letters", help="list them (no bodies)")
    replay = hooks_sub.add_parser("replay", help="run them through the webhook route again")
    for action in (listing, replay):
        action.add_argument("--vendor", choices=registry.names(), default=None)
        action.add_argument("--limit", type=int, default=100)
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--digest", help="the letter's body digest (or an unambiguous prefix)")
    which.add_argument("--all", action="store_true", help="every letter, oldest first")

    schema = sub.add_parser("schema", help="print the GraphQL SDL")
    schema.add_argument("--output", "-o", default=None, help="write to a file instead")
    schema.add_argument(
        "--federation", action="store_true", help="the subgraph SDL a router composes"
    )

    report = sub.add_parser("report", help="write the analytics figures as an HTML report")
    report.add_argument(
        "--url", default="http://127.0.0.1:8000/graphql", help="the gateway's GraphQL endpoint"
    )
    report.add_argument(
        "--token", required=True, help="an internal token (the demo's: demo-internal)"
    )
    report.add_argument(
        "--from", dest="since", default=None, help="ISO date (default: 365 days before --to)"
    )
    report.add_argument("--to", dest="until", default=None, help="ISO date (default: now)")
    report.add_argument(
        "--location", action="append", default=None, help="only this location (repeatable)"
    )
    report.add_argument("--output", "-o", default="omnigate-report.html", help="the HTML file")

    args = parser.parse_args(argv)
    settings = Settings()
    overrides = {k: v for k in ("host", "port") if (v := getattr(args, k, None)) is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)

    if args.command == "schema":
        from schema.build import export_sdl

        sdl = export_sdl(federation=args.federation)
        if args.output:
            with open(args.output, "w") as fh:
                fh.write(sdl)
        else:
            sys.stdout.write(sdl)
        return 0

    if args.command == "report":
        return asyncio.run(_report(args))

    configure_logging(settings.log_level, settings.log_format)
    if args.command in ("sync", "webhooks"):
        from gateway.store import ReplicaSetRequired

        try:
            if args.command == "sync":
                return asyncio.run(_sync(settings, args.since, incremental=args.incremental))
            return asyncio.run(_webhooks(settings, args))
        except ReplicaSetRequired as exc:
            # A standalone MongoDB: say what to do, no trace.
            print(f"omnigate: {exc}", file=sys.stderr, flush=True)
            return 2
    run_demo = args.command == "demo" or settings.demo_mode
    try:
        # Checked before the demo's sandboxes start; create_app checks again what it gets.
        checked = settings.model_copy(update={"demo": True}) if run_demo else settings
        problems = checked.startup_problems()
        if problems:
            raise StartupError(problems)
        if run_demo:
            return asyncio.run(_run_demo(settings, getattr(args, "people", None)))
        return asyncio.run(_serve(settings))
    except StartupError as exc:
        # Unsafe settings (production with demo credentials): say which to set, no trace.
        print(f"omnigate: {exc}", file=sys.stderr, flush=True)
        return 2


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
        app = create_app(
            stack.settings, on_started=lambda: print(banner(stack, gateway_url), flush=True)
        )
        await uvicorn.Server(_uvicorn_config(app, stack.settings)).serve()
    return 0


async def _sync(settings: Settings, since_text: str | None, *, incremental: bool = False) -> int:
    from datetime import UTC, datetime, timedelta

    from gateway import __version__
    from gateway.progress import ProgressBars
    from gateway.runtime import build_services
    from resolvers.customers.sync import sync_customers

    since = None
    if since_text:
        since = datetime.fromisoformat(since_text)
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    services = build_services(settings, version=__version__)
    await _open_store(services.store)
    await services.connectors.start()
    try:
        with ProgressBars() as bars:
            summary = await sync_customers(
                services,
                since=since,
                incremental=incremental,
                overlap=timedelta(seconds=settings.sync_overlap_seconds),
                progress=bars.update,
            )
    finally:
        await services.connectors.close()
        await services.store.close()
    for line in summary.lines():
        print(line)
    return 1 if summary.failed_sources or summary.busy else 0


async def _webhooks(settings: Settings, args: argparse.Namespace) -> int:
    from connectors.records import Source
    from gateway import __version__
    from gateway.dead_letters import describe, list_letters, replay_letters
    from gateway.runtime import build_services, build_webhook_route

    source = Source(args.vendor) if args.vendor else None
    services = build_services(settings, version=__version__)
    await _open_store(services.store)
    try:
        if args.action == "dead-letters":
            for letter in await list_letters(
                services.store.webhooks, source=source, limit=args.limit
            ):
                print(describe(letter))
            return 0
        await services.connectors.start()
        try:
            route = build_webhook_route(settings, services)
            done = await replay_letters(
                route,
                services.store.webhooks,
                source=source,
                digest=None if args.all else args.digest,
                limit=args.limit,
                report=lambda replayed: print(replayed.line()),
            )
        finally:
            await services.connectors.close()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        await services.store.close()
    return 0 if all(r.applied for r in done) else 1


async def _report(args: argparse.Namespace) -> int:
    from gateway.report.write import ReportError, write_report

    try:
        path = await write_report(
            args.url,
            args.token,
            since=args.since,
            until=args.until,
            location_ids=args.location,
            output=args.output,
        )
    except ReportError as exc:
        print(f"omnigate report: {exc}", file=sys.stderr, flush=True)
        return 1
    print(f"wrote {path}")
    return 0


async def _open_store(store: Store) -> None:
    """Initialise the store for a command; one that cannot be used (unreachable, or a
    standalone MongoDB) is closed again before the error goes up."""
    try:
        await store.init()
    except BaseException:
        await store.close()
        raise


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
