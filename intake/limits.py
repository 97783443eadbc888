"""What image intake accepts: which hosts, how many bytes and pixels, how long a fetch takes."""

from __future__ import annotations

from dataclasses import dataclass

from core.urls import DISCORD_ATTACHMENT_HOSTS

#: Where Discord serves attachments; the only hosts image URLs may name unless the operator
#: adds more (ATELIER_IMAGE_HOSTS).
DISCORD_HOSTS = DISCORD_ATTACHMENT_HOSTS


@dataclass(frozen=True)
class IntakeLimits:
    hosts: frozenset[str] = DISCORD_HOSTS
    #: Bytes one image may have, counted while it downloads.
    max_bytes: int = 10_000_000
    #: Width × height, read from the image's header before it is decoded.
    max_pixels: int = 40_000_000
    #: The whole fetch (every redirect included), from the first lookup to the last byte.
    fetch_seconds: float = 15.0
    #: Tests only (their server runs on 127.0.0.1); never an operator setting.
    allow_loopback: bool = False
