"""The REST wire format of Discord's API: error responses in Discord's shape
(``{"code", "message", "errors"}``), request bodies parsed the way Discord parses them
(JSON, or multipart with ``payload_json`` and ``files[n]`` uploads), the canned
failures ``FakeDiscord.fail_next`` injects and the requests ``FakeDiscord.hold`` keeps
waiting.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from .payloads import guess_content_type

if TYPE_CHECKING:
    from .server import FakeDiscord

#: Where the REST API lives on the stand-in's server, as on discord.com.
API_PREFIX = "/api/v10"

#: A REST route handler: ``handler(req, **path_groups) -> (status, json_body_or_None)``.
Handler = Callable[..., Awaitable[Any]]


class DiscordError(Exception):
    """An error response in Discord's shape: ``{"code": ..., "message": ...}``."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.body: dict[str, Any] = body or {"code": code, "message": message}
        if errors:
            self.body["errors"] = errors
        self.headers = headers or {}


def form_error(field_path: str, code: str, message: str) -> DiscordError:
    """A 400 Invalid Form Body naming one field, nested the way Discord nests them."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def invalid_webhook_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")


@dataclass
class Failure:
    """A failure ``fail_next`` scheduled: which requests it answers, how, and how often."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    times: int
    global_: bool
    code: int | None
    message: str | None


@dataclass(eq=False)
class Hold:
    """One request ``FakeDiscord.hold`` keeps waiting, so a test can act (kill the bot) at
    that exact moment: Discord has not seen the request (``applied=False``: it is never
    carried out), or has carried it out but not answered (``applied=True``).

    ``reached`` is set when the request arrives; ``release()`` lets it end (a request held
    before being applied then fails with a 503, still not carried out).
    """

    method: str
    pattern: re.Pattern[str]
    when: Callable[[Any], bool] | None
    applied: bool
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    taken: bool = False

    def release(self) -> None:
        self.released.set()

    async def matches(self, method: str, path: str, request: Request) -> bool:
        if self.taken or self.method not in ("*", method) or not self.pattern.search(path):
            return False
        if self.when is not None:
            payload, _ = await request.body()
            if not self.when(payload):
                return False
        self.taken = True
        return True

    async def wait(self) -> None:
        """Called by the request being held: until the test releases it."""
        self.reached.set()
        await self.released.wait()


@dataclass
class Upload:
    """One file of a multipart body (``files[n]``), before it becomes an attachment."""

    index: int
    filename: str
    content_type: str | None
    data: bytes


class Request:
    """One REST request with its body parsed the way Discord parses it."""

    def __init__(self, fake: FakeDiscord, request: web.Request, path: str) -> None:
        self.fake = fake
        self.raw = request
        self.path = path
        self.method = request.method
        self.query = dict(request.query)
        self._parsed: tuple[Any, list[Upload]] | None = None

    async def body(self) -> tuple[Any, list[Upload]]:
        """The JSON payload (``payload_json`` of a multipart body) and the uploaded files."""
        if self._parsed is not None:
            return self._parsed
        request = self.raw
        payload: Any = {}
        uploads: list[Upload] = []
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                raw = await part.read(decode=False)
                if name == "payload_json":
                    payload = json.loads(raw.decode("utf-8"))
                elif match := re.fullmatch(r"files\[(\d+)\]|file(\d*)", name):
                    index = int(match.group(1) or match.group(2) or len(uploads))
                    declared = part.headers.get("Content-Type")
                    filename = part.filename or f"file{index}"
                    uploads.append(
                        Upload(index, filename, guess_content_type(filename, declared), bytes(raw))
                    )
        elif request.can_read_body:
            text = await request.text()
            if text:
                try:
                    payload = json.loads(text)
                except ValueError as exc:
                    raise DiscordError(
                        400, 50109, "The request body contains invalid JSON."
                    ) from exc
        total = sum(len(u.data) for u in uploads)
        if total > self.fake.attachment_size_limit:
            raise DiscordError(413, 40005, "Request entity too large")
        self._parsed = (payload, uploads)
        return self._parsed

    async def json(self) -> dict[str, Any]:
        payload, _ = await self.body()
        if not isinstance(payload, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        return payload


def ratelimit_headers(bucket: str) -> dict[str, str]:
    """The rate-limit headers Discord puts on every answer (never near the limit)."""
    return {
        "Via": "1.1 google",
        "X-RateLimit-Bucket": hashlib.md5(bucket.encode()).hexdigest()[:16],
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
    }


def injected_failure(failures: list[Failure], method: str, path: str) -> DiscordError | None:
    """The error to answer with instead of handling the request, if a failure
    scheduled by ``fail_next`` matches it (and it has uses left)."""
    for failure in failures:
        if failure.times <= 0 or failure.method not in ("*", method):
            continue
        if not failure.pattern.search(path):
            continue
        failure.times -= 1
        if failure.status == 429:
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, math.ceil(failure.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + failure.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{failure.retry_after:.3f}",
                "X-RateLimit-Bucket": hashlib.md5(path.encode()).hexdigest()[:16],
                "X-RateLimit-Scope": "global" if failure.global_ else "user",
            }
            if failure.global_:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": failure.message or "You are being rate limited.",
                "retry_after": failure.retry_after,
                "global": failure.global_,
                "code": failure.code or 0,
            }
            return DiscordError(429, 0, "", headers=headers, body=body)
        code, message = default_error(failure.status)
        return DiscordError(failure.status, failure.code or code, failure.message or message)
    return None


def default_error(status: int) -> tuple[int, str]:
    """The code and message Discord answers a status with, for injected failures."""
    return {
        400: (50035, "Invalid Form Body"),
        401: (0, "401: Unauthorized"),
        403: (50013, "Missing Permissions"),
        404: (0, "404: Not Found"),
        413: (40005, "Request entity too large"),
        500: (0, "500: Internal Server Error"),
        502: (0, "502: Bad Gateway"),
        503: (0, "503: Service Unavailable"),
        504: (0, "504: Gateway Timeout"),
    }.get(status, (0, f"{status}: Error"))
