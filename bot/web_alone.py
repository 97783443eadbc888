"""``atelier web``: the web studio alone, on an existing data folder, without Discord."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from bot.objects import freeze_start_up_objects
from bot.settings import Settings
from core.clock import utc_now
from db.database import Database
from web.app import create_web_app
from web.context import WebContext
from web.operations import HealthSources, operations
from web.server import WebServer


async def serve_web(settings: Settings, *, ready: Callable[[str], object]) -> None:
    """Serve the pages until SIGINT or SIGTERM; ``ready`` gets the address once listening."""
    freeze_start_up_objects()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with await Database.open(settings.database_path) as db:
            # No worker pool here: /healthz checks the loop and the database.
            routes, middlewares = operations(HealthSources(db), metrics=settings.web_metrics)
            server = WebServer(
                create_web_app(
                    WebContext(db, settings.images_dir, utc_now, settings.public_url),
                    routes=routes,
                    middlewares=middlewares,
                ),
                host=settings.web_host,
                port=settings.web_port,
            )
            await server.start()
            try:
                ready(server.url)
                await stop.wait()
            finally:
                await server.stop()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
