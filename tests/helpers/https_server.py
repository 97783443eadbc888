"""An HTTPS server on 127.0.0.1 serving given bytes at given paths (redirects, slow and huge
replies for the refusal tests), with a certificate for ``localhost`` from a test CA, and the
``ImageIntake`` that trusts it: hosts ``{"localhost"}``, loopback allowed, names resolved by
a stub (``localhost`` → 127.0.0.1, nothing else), connections recorded.

    with https_server({"/fox.png": Reply(png)}) as server:
        intake = server.intake()
        image = await intake.fetch(server.url("/fox.png"))
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import ssl
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpcore
import trustme

from intake.fetch import ImageIntake, Resolver
from intake.limits import IntakeLimits

HOST = "localhost"


@dataclass(frozen=True)
class Reply:
    """What the server answers at a path: ``body`` sent ``repeat`` times, with a
    Content-Length (``content_length``: the true one when ``None``, this number otherwise,
    or none at all with ``send_length=False``), waiting ``delay_seconds`` before each part."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    repeat: int = 1
    delay_seconds: float = 0.0
    content_length: int | None = None
    send_length: bool = True


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers=(("Location", location),))


def huge(size: int, *, send_length: bool = False) -> Reply:
    """``size`` bytes (rounded up to 64 KiB), by default without a Content-Length."""
    part = b"\0" * 65536
    return Reply(part, repeat=-(-size // len(part)), send_length=send_length)


@functools.cache
def test_ca() -> trustme.CA:
    """One test CA per test run (making keys is the slow part)."""
    return trustme.CA()


def client_ssl_context() -> ssl.SSLContext:
    """A client context that trusts the test CA (and nothing else)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    test_ca().configure_trust(context)
    return context


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Real connections (``inner``: sockets by default), each host asked for recorded in
    ``connects``; with ``refuse=True`` none is made at all (a ConnectError instead)."""

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend | None = None, *, refuse: bool = False
    ) -> None:
        self.inner = inner or httpcore.AnyIOBackend()
        self.refuse = refuse
        self.connects: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        if self.refuse:
            raise httpcore.ConnectError(f"test: no connection to {host}")
        if host != "127.0.0.1" and not isinstance(self.inner, httpcore.AsyncMockBackend):
            raise AssertionError(f"a test tried to connect to {host}")
        return await self.inner.connect_tcp(host, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("no unix sockets in these tests")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@dataclass
class StubResolver:
    """Answers lookups from ``answers`` (host → addresses, or a list of answers given in
    turn, the last one repeated) and records each lookup; unknown names resolve to nothing."""

    answers: Mapping[str, list[str] | list[list[str]]]
    lookups: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        answer = self.answers.get(host, [])
        if answer and isinstance(answer[0], list):
            turns = [list(turn) for turn in answer]
            return turns[min(self.lookups.count(host), len(turns)) - 1]
        return [str(address) for address in answer]


class HttpsServer:
    """The server (started by :func:`https_server`); ``requests`` records each request's
    path and Host header, ``server_names`` the TLS server names clients asked for."""

    def __init__(self, routes: Mapping[str, Reply]) -> None:
        self.routes = dict(routes)
        self.requests: list[tuple[str, str]] = []
        self.server_names: list[str | None] = []
        self._stopping = threading.Event()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        test_ca().issue_cert(HOST).configure_cert(context)
        context.sni_callback = self._record_server_name
        self._httpd = _Server(("127.0.0.1", 0), _handler(self))
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"https://{HOST}:{self.port}{path}"

    def intake(
        self,
        *,
        resolver: Resolver | None = None,
        backend: httpcore.AsyncNetworkBackend | None = None,
        **limits: Any,
    ) -> ImageIntake:
        """An intake that trusts this server: ``limits`` override the test defaults."""
        chosen = IntakeLimits(**{"hosts": frozenset({HOST}), "allow_loopback": True, **limits})
        return ImageIntake(
            chosen,
            resolver=resolver or StubResolver({HOST: ["127.0.0.1"]}),
            ssl_context=client_ssl_context(),
            network_backend=backend or RecordingBackend(),
        )

    def _record_server_name(self, sock: Any, name: str | None, context: Any) -> None:
        self.server_names.append(name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def https_server(routes: Mapping[str, Reply]) -> Iterator[HttpsServer]:
    server = HttpsServer(routes)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (refused downloads, failed handshakes) are expected here."""


def _handler(server: HttpsServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append((self.path, self.headers.get("Host", "")))
            reply = server.routes.get(self.path, Reply(b"not found", status=404))
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.send_length:
                length = reply.content_length
                if length is None:
                    length = len(reply.body) * reply.repeat
                self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                for _ in range(reply.repeat):
                    if _waited(server._stopping, reply.delay_seconds):
                        return
                    self.wfile.write(reply.body)
                    self.wfile.flush()
            except (TimeoutError, ConnectionError, ssl.SSLError):
                return

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read ``server.requests``."""

    return Handler


def _waited(stopping: threading.Event, seconds: float) -> bool:
    """Sleep ``seconds``; True when the server is stopping meanwhile."""
    return seconds > 0 and stopping.wait(seconds)
