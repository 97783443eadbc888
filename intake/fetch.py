"""Fetching an image a member linked to, and reading one a member uploaded.

Every connection goes through :class:`PublicOnlyBackend`: it resolves the name once, refuses
unless every address is public, and connects to one of those checked addresses itself (TLS
still verifies the certificate for the name, and the request still names the host), so a
name that resolves to a public address for a check and to a private one for the connection
(DNS rebinding) cannot reach anything but the address that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx
from PIL import Image

from core.errors import quoted
from intake.addresses import address_kind
from intake.errors import ImageRefused
from intake.image import checked_image
from intake.limits import IntakeLimits

#: host, port → the IP addresses (text) the name resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]

#: Redirects one fetch may follow (each checked like the first URL).
MAX_REDIRECTS = 3
REDIRECTS = frozenset({301, 302, 303, 307, 308})
URL_CHARS = 80


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host`` (off the event loop)."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in found))


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to checked public addresses.

    ``inner`` opens the actual connections; it is only ever given an IP address this
    backend has checked, never a name.
    """

    def __init__(
        self,
        limits: IntakeLimits,
        resolver: Resolver,
        inner: httpcore.AsyncNetworkBackend,
    ) -> None:
        self._limits = limits
        self._resolver = resolver
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.checked_addresses(host, port)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def checked_addresses(
        self, host: str, port: int
    ) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """Every address ``host`` resolves to, once; refused unless all of them are public."""
        answers = await self._resolver(host, port)
        if not answers:
            raise ImageRefused(f"{host} could not be found (its name does not resolve)")
        addresses = []
        for answer in answers:
            try:
                address = ipaddress.ip_address(answer.partition("%")[0])
            except ValueError:
                raise ImageRefused(f"{host} resolves to {answer!r}, not an address") from None
            kind = address_kind(address, allow_loopback=self._limits.allow_loopback)
            if kind is not None:
                raise ImageRefused(
                    f"{host} resolves to {address}, a {kind} address; images are fetched "
                    "only from public internet addresses"
                )
            addresses.append(address)
        return addresses

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ImageRefused("images are fetched over the network only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


#: Images decoded at once: one 40 MP image takes a few hundred MB while it is decoded and
#: converted, so members sending many at a time queue here instead of adding up in memory.
DECODES_AT_ONCE = 2


class ImageIntake:
    """Images members give, fetched from URLs or read from uploads, checked against
    ``limits``; every refusal is an :class:`ImageRefused` with a one-line message.

    ``resolver`` (default: the system's) and ``network_backend`` (default: real sockets)
    exist for tests, which answer lookups themselves and count connections.
    """

    def __init__(
        self,
        limits: IntakeLimits,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.limits = limits
        self._backend = PublicOnlyBackend(
            limits, resolver or system_resolver, network_backend or httpcore.AnyIOBackend()
        )
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, network_backend=self._backend, http1=True, http2=False
        )
        self._decoding = asyncio.Semaphore(DECODES_AT_ONCE)

    async def fetch(self, url: str) -> Image.Image:
        """The image at ``url``, downloaded and checked (see the module's docstring)."""
        shown = _shown(url)
        try:
            async with asyncio.timeout(self.limits.fetch_seconds):
                data = await self._download(url, shown)
        except TimeoutError:
            raise ImageRefused(
                f"{shown} took longer than {self.limits.fetch_seconds:g} seconds to download"
            ) from None
        return await self._decode(data, shown)

    async def read(self, data: bytes, name: str) -> Image.Image:
        """An uploaded file's image, checked like a fetched one."""
        return await self._decode(data, name)

    async def _decode(self, data: bytes, name: str) -> Image.Image:
        async with self._decoding:
            return await asyncio.to_thread(checked_image, data, self.limits, name=name)

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def _download(self, url: str, shown: str) -> bytes:
        target = self._allowed(url, shown)
        for _ in range(MAX_REDIRECTS + 1):
            location, data = await self._get(target, shown)
            if location is None:
                return data
            target = self._allowed(str(target.join(location)), shown)
        raise ImageRefused(f"{shown} redirects more than {MAX_REDIRECTS} times")

    def _allowed(self, url: str, shown: str) -> httpx.URL:
        """``url`` parsed, refused unless it is https on an allowed host."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise ImageRefused(f"{shown} is not a URL") from None
        if parsed.scheme != "https":
            raise ImageRefused(f"{_shown(url)} is not an https:// link; only https is fetched")
        host = parsed.host.lower().rstrip(".")
        if host not in self.limits.hosts:
            raise ImageRefused(
                f"{_shown(url)} is not on an allowed host; images are fetched only from "
                f"{', '.join(sorted(self.limits.hosts))}"
            )
        return parsed

    async def _get(self, url: httpx.URL, shown: str) -> tuple[str | None, bytes]:
        """``(redirect location, b"")`` or ``(None, the body)``, capped in size."""
        headers = [
            (b"Host", url.netloc),
            (b"Accept", b"image/png, image/jpeg, image/webp, image/gif"),
            (b"Accept-Encoding", b"identity"),
            (b"User-Agent", b"Atelier image intake"),
        ]
        request_url = httpcore.URL(
            scheme=b"https", host=url.raw_host, port=url.port, target=url.raw_path
        )
        try:
            async with self._pool.stream("GET", request_url, headers=headers) as response:
                if response.status in REDIRECTS:
                    location = _header(response.headers, b"location")
                    if location is None:
                        raise ImageRefused(f"{shown} redirects without saying where")
                    return location, b""
                if response.status != 200:
                    raise ImageRefused(
                        f"{shown} answered HTTP {response.status} instead of an image"
                    )
                return None, await self._body(response, shown)
        except httpcore.ConnectError:
            raise ImageRefused(
                f"could not connect securely to {url.host} to download {shown}"
            ) from None
        except (httpcore.NetworkError, httpcore.ProtocolError):
            raise ImageRefused(f"the download of {shown} broke off") from None

    async def _body(self, response: httpcore.Response, shown: str) -> bytes:
        cap = self.limits.max_bytes
        too_big = f"{shown} is larger than {cap / 1_000_000:.1f} MB, the most an image may have"
        declared = _header(response.headers, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            raise ImageRefused(too_big)
        body = bytearray()
        async for chunk in response.aiter_stream():
            body += chunk
            if len(body) > cap:
                raise ImageRefused(too_big)
        return bytes(body)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


def _shown(url: str) -> str:
    """A member's URL as refusals quote it: on one line, shortened."""
    return quoted(" ".join(url.split()), URL_CHARS)
