"""Starting and stopping the web studio's HTTP server on the running event loop."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)


class WebListenError(Exception):
    """The web studio's address cannot be listened on (in use, or not this machine's)."""


class WebServer:
    """An aiohttp application listening on one address, on the loop that starts it (the
    bot's own: pages share the loop with Discord and the worker pool's events)."""

    def __init__(self, app: web.Application, *, host: str, port: int) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; WebListenError names the address (and the settings) if it cannot."""
        runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as error:
            await runner.cleanup()
            raise WebListenError(
                f"the web studio cannot listen on {self._host}:{self._port} "
                f"(ATELIER_WEB_HOST, ATELIER_WEB_PORT): {error.strerror or error}"
            ) from None
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("web studio listening on %s", self.url)

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose, when asked for port 0)."""
        if self._runner is None:
            raise RuntimeError("the web server is not started")
        for address in self._runner.addresses:
            return int(address[1])
        raise RuntimeError("the web server listens nowhere")

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and finish (or drop, after aiohttp's grace) requests in flight."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
