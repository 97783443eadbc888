"""Fetching image URLs members type: https on allowed hosts, public addresses only (checked on
the connection actually made), size and time caps, every refusal one specific line.

The server runs on 127.0.0.1; private, metadata and "public" addresses are answers of a stub
resolver, and the backend underneath records every connection asked for (refusing them, or
answering from memory), so no test connects anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Iterator

import httpcore
import pytest
from PIL import Image

from intake import fetch
from intake.errors import ImageRefused
from intake.fetch import ImageIntake, system_resolver
from intake.limits import IntakeLimits
from tests.helpers.https_server import (
    HttpsServer,
    RecordingBackend,
    Reply,
    StubResolver,
    client_ssl_context,
    https_server,
    huge,
    redirect,
)

DISCORD_URL = "https://cdn.discordapp.com/attachments/1/2/fox.png"


def png(size: tuple[int, int] = (16, 12), colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def server() -> Iterator[HttpsServer]:
    routes = {
        "/fox.png": Reply(png()),
        "/hop": redirect("/fox.png"),
        "/hop-away": redirect("https://example.org/fox.png"),
        "/hop-inside": redirect(DISCORD_URL),
        "/hop-plain": redirect("http://localhost/fox.png"),
        "/loop": redirect("/loop"),
        "/page.png": Reply(b"<html>a page</html>", headers=(("Content-Type", "image/png"),)),
        "/claims-huge": Reply(png(), content_length=10**9),
        "/huge": huge(2_000_000),
        "/slow": Reply(png(), delay_seconds=5),
        "/drip": Reply(b"\0" * 10, repeat=50, delay_seconds=0.05),
        "/gone": Reply(b"gone", status=404),
    }
    with https_server(routes) as running:
        yield running


async def refusal(intake: ImageIntake, url: str) -> str:
    try:
        with pytest.raises(ImageRefused) as refused:
            await intake.fetch(url)
    finally:
        await intake.aclose()
    return str(refused.value)


async def test_an_image_url_is_fetched_over_https_keeping_the_name_for_tls_and_host(
    server: HttpsServer,
) -> None:
    backend = RecordingBackend()
    intake = server.intake(backend=backend)
    image = await intake.fetch(server.url("/hop"))
    await intake.aclose()
    assert (image.mode, image.size) == ("RGB", (16, 12))
    assert backend.connects == ["127.0.0.1", "127.0.0.1"]  # checked addresses, not the name
    assert server.server_names == ["localhost", "localhost"]
    assert [path for path, _ in server.requests] == ["/hop", "/fox.png"]
    assert {host for _, host in server.requests} == {f"localhost:{server.port}"}


async def test_an_uploaded_file_is_read_under_the_same_limits(server: HttpsServer) -> None:
    intake = server.intake(max_bytes=1000)
    assert (await intake.read(png(), "fox.png")).size == (16, 12)
    with pytest.raises(ImageRefused, match=r"^big\.png is 0\.0 MB; images may be at most"):
        await intake.read(png((300, 300), "white") + b"\0" * 1000, "big.png")
    await intake.aclose()


async def test_many_images_at_once_are_decoded_a_few_at_a_time(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member sending many large images at once must not have them all decoded (and held
    in memory) together."""
    decoding = 0
    most = 0
    lock = threading.Lock()

    def slow_checked_image(data: bytes, limits: IntakeLimits, *, name: str) -> Image.Image:
        nonlocal decoding, most
        with lock:
            decoding += 1
            most = max(most, decoding)
        time.sleep(0.05)
        with lock:
            decoding -= 1
        return Image.new("RGB", (4, 4))

    monkeypatch.setattr(fetch, "checked_image", slow_checked_image)
    intake = server.intake()
    images = await asyncio.gather(*(intake.read(png(), f"{n}.png") for n in range(8)))
    await intake.aclose()
    assert len(images) == 8
    assert most == fetch.DECODES_AT_ONCE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://localhost/fox.png",
            "“http://localhost/fox.png” is not an https:// link; only https is fetched",
        ),
        (
            "https://example.org/fox.png",
            "“https://example.org/fox.png” is not on an allowed host; images are fetched "
            "only from localhost",
        ),
        (
            "https://localhost@example.org/fox.png",
            "“https://localhost@example.org/fox.png” is not on an allowed host; images are "
            "fetched only from localhost",
        ),
        (
            "https://",
            "“https://” is not on an allowed host; images are fetched only from localhost",
        ),
        (
            "ftp://localhost/fox.png",
            "“ftp://localhost/fox.png” is not an https:// link; only https is fetched",
        ),
    ],
)
async def test_urls_that_are_not_https_on_an_allowed_host_are_refused_unfetched(
    server: HttpsServer, url: str, message: str
) -> None:
    backend, resolver = RecordingBackend(), StubResolver({"localhost": ["127.0.0.1"]})
    assert await refusal(server.intake(backend=backend, resolver=resolver), url) == message
    assert backend.connects == []
    assert resolver.lookups == []


async def test_discords_hosts_are_the_default_ones() -> None:
    backend = RecordingBackend(refuse=True)
    intake = ImageIntake(IntakeLimits(), resolver=StubResolver({}), network_backend=backend)
    message = await refusal(intake, "https://i.imgur.com/fox.png")
    assert message.endswith("images are fetched only from cdn.discordapp.com, media.discordapp.net")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/hop-away",
            "is not on an allowed host; images are fetched only from localhost",
        ),
        ("/hop-plain", "is not an https:// link; only https is fetched"),
        ("/loop", "redirects more than 3 times"),
        ("/gone", "answered HTTP 404 instead of an image"),
        ("/page.png", "is not a PNG, JPEG, WebP or GIF image"),
    ],
)
async def test_redirects_are_checked_like_the_first_url_and_bad_answers_refused(
    server: HttpsServer, path: str, message: str
) -> None:
    backend = RecordingBackend()
    assert (await refusal(server.intake(backend=backend), server.url(path))).endswith(message)
    assert set(backend.connects) == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("address", "kind"), [("10.0.0.1", "private"), ("169.254.169.254", "cloud metadata")]
)
async def test_a_redirect_to_an_allowed_host_on_a_non_public_address_is_not_followed(
    server: HttpsServer, address: str, kind: str
) -> None:
    backend = RecordingBackend()
    resolver = StubResolver({"localhost": ["127.0.0.1"], "cdn.discordapp.com": [address]})
    intake = server.intake(
        backend=backend, resolver=resolver, hosts=frozenset({"localhost", "cdn.discordapp.com"})
    )
    assert await refusal(intake, server.url("/hop-inside")) == (
        f"cdn.discordapp.com resolves to {address}, a {kind} address; images are fetched "
        "only from public internet addresses"
    )
    assert backend.connects == ["127.0.0.1"]  # the first hop only


async def test_a_declared_size_past_the_cap_is_refused_before_reading(server: HttpsServer) -> None:
    # The server announces 1 GB and sends a few hundred bytes: reading would wait out the
    # time cap, so this refusal can only come from the header.
    message = await refusal(server.intake(fetch_seconds=10), server.url("/claims-huge"))
    assert message == (
        f"“{server.url('/claims-huge')}” is larger than 10.0 MB, the most an image may have"
    )


async def test_a_download_is_cut_off_past_the_size_cap(server: HttpsServer) -> None:
    message = await refusal(server.intake(max_bytes=100_000), server.url("/huge"))
    assert message.endswith("is larger than 0.1 MB, the most an image may have")


@pytest.mark.parametrize("path", ["/slow", "/drip"])
async def test_the_time_cap_covers_the_whole_fetch(server: HttpsServer, path: str) -> None:
    # /drip sends a part every 50 ms: no single read is slow, the whole is (2.5 s).
    message = await refusal(server.intake(fetch_seconds=0.5), server.url(path))
    assert message == f"“{server.url(path)}” took longer than 0.5 seconds to download"


async def test_loopback_is_refused_unless_allowed_and_nothing_is_connected(
    server: HttpsServer,
) -> None:
    backend = RecordingBackend()
    intake = server.intake(backend=backend, allow_loopback=False)
    assert await refusal(intake, server.url("/fox.png")) == (
        "localhost resolves to 127.0.0.1, a loopback address; images are fetched only from "
        "public internet addresses"
    )
    assert backend.connects == []
    assert server.requests == []


@pytest.mark.parametrize(
    ("answers", "refused", "kind"),
    [
        (["10.1.2.3"], "10.1.2.3", "private"),
        (["192.168.0.10"], "192.168.0.10", "private"),
        (["169.254.169.254"], "169.254.169.254", "cloud metadata"),
        (["fd00:ec2::254"], "fd00:ec2::254", "cloud metadata"),
        (["::ffff:169.254.169.254"], "::ffff:a9fe:a9fe", "cloud metadata"),
        (["::ffff:127.0.0.1"], "::ffff:7f00:1", "loopback"),
        (["::1"], "::1", "loopback"),
        (["169.254.10.1"], "169.254.10.1", "link-local"),
        (["fe80::1%eth0"], "fe80::1", "link-local"),
        # IPv6's deprecated private range, which Python's ipaddress counts as global.
        (["fec0::1"], "fec0::1", "site-local"),
        (["224.0.0.251"], "224.0.0.251", "multicast"),
        (["0.0.0.0"], "0.0.0.0", "unspecified"),
        (["100.64.0.1"], "100.64.0.1", "reserved"),
        (["240.0.0.1"], "240.0.0.1", "reserved"),
        # Every address counts, not only the first one.
        (["93.184.216.34", "10.0.0.1"], "10.0.0.1", "private"),
        (["93.184.216.34", "fd12:3456::1"], "fd12:3456::1", "private"),
    ],
)
async def test_a_name_resolving_to_a_non_public_address_is_refused_without_connecting(
    answers: list[str], refused: str, kind: str
) -> None:
    backend = RecordingBackend(refuse=True)
    intake = ImageIntake(
        IntakeLimits(),
        resolver=StubResolver({"cdn.discordapp.com": answers}),
        network_backend=backend,
    )
    assert await refusal(intake, DISCORD_URL) == (
        f"cdn.discordapp.com resolves to {refused}, a {kind} address; images are fetched "
        "only from public internet addresses"
    )
    assert backend.connects == []


async def test_a_name_that_resolves_to_nothing_is_refused() -> None:
    backend = RecordingBackend(refuse=True)
    intake = ImageIntake(IntakeLimits(), resolver=StubResolver({}), network_backend=backend)
    assert await refusal(intake, DISCORD_URL) == (
        "cdn.discordapp.com could not be found (its name does not resolve)"
    )
    assert backend.connects == []


async def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: the name answers a public address once, then a private one. The
    connection is made to the checked public address (answered here from memory), and the
    name is looked up once, so the second answer is never used."""
    body = png()
    answer = httpcore.AsyncMockBackend(
        [b"HTTP/1.1 200 OK\r\n", f"Content-Length: {len(body)}\r\n\r\n".encode(), body]
    )
    backend = RecordingBackend(answer)
    resolver = StubResolver({"cdn.discordapp.com": [["93.184.216.34"], ["127.0.0.1"]]})
    intake = ImageIntake(IntakeLimits(), resolver=resolver, network_backend=backend)
    image = await intake.fetch(DISCORD_URL)
    await intake.aclose()
    assert image.size == (16, 12)
    assert backend.connects == ["93.184.216.34"]
    assert resolver.lookups == ["cdn.discordapp.com"]


async def test_a_connection_is_made_only_after_the_lookup_is_checked_each_time() -> None:
    """The same rebinding the other way round: once the name turns private, the next
    connection is refused before it is made."""
    backend = RecordingBackend(refuse=True)
    resolver = StubResolver({"cdn.discordapp.com": [["93.184.216.34"], ["10.0.0.7"]]})
    intake = ImageIntake(IntakeLimits(), resolver=resolver, network_backend=backend)
    first = await refusal(intake, DISCORD_URL)
    assert first.startswith("could not connect securely to cdn.discordapp.com")
    intake = ImageIntake(IntakeLimits(), resolver=resolver, network_backend=backend)
    second = await refusal(intake, DISCORD_URL)
    assert second.startswith("cdn.discordapp.com resolves to 10.0.0.7, a private address")
    assert backend.connects == ["93.184.216.34"]


async def test_a_certificate_for_another_name_is_refused(server: HttpsServer) -> None:
    """TLS is verified for the URL's name even though the connection is made to an address."""
    intake = ImageIntake(
        IntakeLimits(hosts=frozenset({"127.0.0.1"}), allow_loopback=True),
        resolver=StubResolver({"127.0.0.1": ["127.0.0.1"]}),
        ssl_context=client_ssl_context(),
        network_backend=RecordingBackend(),
    )
    message = await refusal(intake, f"https://127.0.0.1:{server.port}/fox.png")
    assert message.startswith("could not connect securely to 127.0.0.1")


async def test_the_system_resolver_answers_addresses_for_the_connection_to_use() -> None:
    assert "127.0.0.1" in await system_resolver("localhost", 443)
