"""``FakeDiscord``: a loopback stand-in for Discord's REST API, gateway and CDN.

One aiohttp server on 127.0.0.1 answers the REST routes discord.py uses under
``/api/v10`` (login, gateway discovery, application commands, channel messages,
interaction callbacks and the interaction webhooks), accepts the gateway websocket at
``/gateway`` and serves uploaded files at ``/attachments/…``. Point discord.py at it with
:func:`tests.discord_standin.pointing_discord_at`, start the real bot, and drive it the
way a person would: ``slash()``, ``press()``, ``select()``, ``submit_modal()``.

The behaviour follows Discord's where the bot could tell the difference: response
shapes, error codes, rate-limit headers, message validation (length limits, empty
messages, component limits), ephemeral messages that channel routes cannot see, the
"thinking…" placeholder a defer creates and that the first followup replaces, and
interaction tokens that expire.
"""

# ruff: noqa: ASYNC109 -- waiting helpers take timeout= by design, as asyncio.wait_for does

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import inspect
import json
import logging
import math
import re
import secrets
import socket
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, Gateway, GatewaySession
from .payloads import Perm, SnowflakeFactory, guess_content_type, image_size, iso
from .records import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    SUPPRESS_EMBEDS,
    FakeUser,
    InteractionRecord,
    RecordedAttachment,
    RecordedMessage,
    RequestRecord,
    _walk_components,
)

API_PREFIX = "/api/v10"

_log = logging.getLogger(__name__)

# Interaction types and callback types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9
LAUNCH_ACTIVITY = 12

_ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL, LAUNCH_ACTIVITY},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
        LAUNCH_ACTIVITY,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}

# Application command option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11

# Component types.
ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
USER_SELECT = 5
ROLE_SELECT = 6
MENTIONABLE_SELECT = 7
CHANNEL_SELECT = 8
LABEL = 18
_SELECTS = {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT}

_SUPPRESS_NOTIFICATIONS = 1 << 12
#: Flags a bot may set when sending, and the ones it may change by editing.
_SENDABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | _SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
_EDITABLE_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2

_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_MENTION = re.compile(r"<@!?(\d+)>")


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


def _form_error(field_path: str, code: str, message: str) -> DiscordError:
    """A 400 Invalid Form Body naming one field, nested the way Discord nests them."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field_path.split(".")):
        errors = {part: errors}
    return DiscordError(400, 50035, "Invalid Form Body", errors=errors)


def _unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def _invalid_webhook_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    times: int
    global_: bool
    code: int | None
    message: str | None


@dataclass
class _Upload:
    index: int
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class _Channel:
    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipient_id: int | None = None

    @property
    def in_guild(self) -> bool:
        return self.type not in (1, 3)


class _Request:
    """One REST request with its body parsed the way Discord parses it."""

    def __init__(self, fake: FakeDiscord, request: web.Request, path: str) -> None:
        self.fake = fake
        self.raw = request
        self.path = path
        self.method = request.method
        self.query = dict(request.query)
        self._parsed: tuple[Any, list[_Upload]] | None = None

    async def body(self) -> tuple[Any, list[_Upload]]:
        """The JSON payload (``payload_json`` of a multipart body) and the uploaded files."""
        if self._parsed is not None:
            return self._parsed
        request = self.raw
        payload: Any = {}
        uploads: list[_Upload] = []
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
                        _Upload(index, filename, guess_content_type(filename, declared), bytes(raw))
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


Handler = Callable[..., Awaitable[Any]]


class FakeDiscord:
    """A whole Discord, as far as one bot in one guild can see it.

    The guild has ``#general`` (``channel_id``) and ``#moderation``
    (``moderation_channel_id``); ``owner`` (alice) is the application's owner and an
    ordinary member, ``guild_owner`` owns the guild. Tokens are checked: REST calls must
    carry ``Authorization: Bot <bot_token>`` (interaction webhooks and callbacks carry
    their interaction token in the path instead, as on Discord).
    """

    def __init__(
        self,
        *,
        token_lifetime_seconds: float = 900.0,
        attachment_size_limit: int = 10 * 1024 * 1024,
        heartbeat_interval_ms: int = 41_250,
        callback_deadline_seconds: float | None = None,
        enforce_default_member_permissions: bool = False,
        bot_name: str = "Atelier",
        guild_name: str = "Atelier Test Server",
    ) -> None:
        self.token_lifetime_seconds = token_lifetime_seconds
        self.attachment_size_limit = attachment_size_limit
        #: When set, a callback later than this after the interaction gets 10062, as on
        #: Discord (3 s). Off by default so a slow test machine cannot fail a test.
        self.callback_deadline_seconds = callback_deadline_seconds
        #: When set, ``slash()`` refuses (as the Discord client would) to run a command
        #: whose ``default_member_permissions`` the user lacks.
        self.enforce_default_member_permissions = enforce_default_member_permissions
        self._snowflake = SnowflakeFactory()
        self.application_id = self._snowflake()
        # Applications made since 2020 have a bot user with the application's id.
        self.bot_user_id = self.application_id
        self.bot_name = bot_name
        self.bot_token = (
            f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(5)}.{secrets.token_urlsafe(27)}"
        )
        self.guild_id = self._snowflake()
        self.guild_name = guild_name
        self.moderator_role_id = self._snowflake()
        self.bot_role_id = self._snowflake()
        self.channel_id = self._snowflake()
        self.moderation_channel_id = self._snowflake()
        self.owner = FakeUser(id=self._snowflake(), name="alice")
        self.guild_owner = FakeUser(id=self._snowflake(), name="guild-owner", administrator=True)
        self._extra_users: list[FakeUser] = []
        self.channels: dict[int, _Channel] = {
            self.channel_id: _Channel(self.channel_id, "general", position=0),
            self.moderation_channel_id: _Channel(
                self.moderation_channel_id, "moderation", position=1
            ),
        }
        self.messages: dict[int, RecordedMessage] = {}
        #: Every file uploaded, by attachment id (what the CDN serves).
        self.uploads: dict[int, RecordedAttachment] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.requests: list[RequestRecord] = []
        #: Requests and gateway frames the stand-in failed on, with tracebacks; a test can
        #: ``assert not fake.errors`` to be sure the bot spoke the protocol as expected.
        self.errors: list[str] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._sent_commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self.command_puts = 0
        self._failures: list[_Failure] = []
        self.gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms)
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, bool]] = []
        self._build_routes()

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            return self
        self._changed = asyncio.Event()
        app = web.Application(client_max_size=self.attachment_size_limit * 2 + (1 << 20))
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._serve_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        return self

    async def stop(self) -> None:
        """Close every gateway socket and stop listening."""
        if self._runner is None:
            return
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started; await fake.start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` should be, e.g. ``http://127.0.0.1:PORT/api/v10``."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    async def disconnect_clients(self, *, code: int = 4000, resumable: bool = True) -> int:
        """Close every gateway websocket from Discord's side, as a gateway restart would.

        discord.py reconnects and RESUMEs (``resumable=True``) or, when the session was
        dropped, gets INVALID_SESSION and IDENTIFYs afresh. Returns how many were closed.
        """
        count = await self.gateway.disconnect(code=code, resumable=resumable)
        self._notify()
        return count

    # -- people and places ------------------------------------------------------------------

    @property
    def users(self) -> dict[int, FakeUser]:
        """Every member of the guild except the bot, by id."""
        people = [self.owner, self.guild_owner, *self._extra_users]
        return {user.id: user for user in people}

    def add_user(
        self, name: str, *, manage_guild: bool = False, administrator: bool = False
    ) -> FakeUser:
        """A new member of the guild (with the Moderator role when ``manage_guild``)."""
        user = FakeUser(
            id=self._snowflake(), name=name, manage_guild=manage_guild, administrator=administrator
        )
        self._extra_users.append(user)
        return user

    def add_channel(self, name: str, *, type: int = 0, topic: str | None = None) -> int:
        """A new text channel in the guild (present in GUILD_CREATE for later IDENTIFYs)."""
        channel = _Channel(
            self._snowflake(), name, type=type, position=len(self.channels), topic=topic
        )
        self.channels[channel.id] = channel
        return channel.id

    def dm_channel_id(self, user: FakeUser | int) -> int | None:
        """The DM channel between the bot and ``user``, once the bot has opened it."""
        user_id = user.id if isinstance(user, FakeUser) else user
        for channel in self.channels.values():
            if channel.type == 1 and channel.recipient_id == user_id:
                return channel.id
        return None

    def permissions_of(self, user: FakeUser) -> int:
        """The user's resolved permissions (the stand-in has no channel overwrites)."""
        if user.administrator or user.id == self.guild_owner.id:
            return Perm.ALL
        permissions = Perm.EVERYONE
        if user.manage_guild:
            permissions |= Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES
        return permissions

    # -- what tests read ------------------------------------------------------------------

    @property
    def commands(self) -> list[dict[str, Any]]:
        """The application commands registered, global then guild ones, as the bot sent them."""
        result = list(self._sent_commands.get(None, []))
        for scope, sent in self._sent_commands.items():
            if scope is not None:
                result.extend(sent)
        return copy.deepcopy(result)

    def registered_commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The stored commands of one scope (None: global), with their ids, as GET returns them."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def channel_messages(
        self, channel_id: int | None = None, *, include_deleted: bool = False
    ) -> list[RecordedMessage]:
        """Non-ephemeral messages in creation order: in one channel, or in every channel."""
        return [
            m
            for m in self.messages.values()
            if not m.ephemeral
            and (channel_id is None or m.channel_id == channel_id)
            and (include_deleted or not m.deleted)
        ]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 429,
        retry_after: float = 0.2,
        times: int = 1,
        global_: bool = False,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` ("*" for any) and
        ``path_regex`` (``re.search`` on the path after ``/api/v10``, without the query) with
        an error instead of handling them.

        A 429 looks like Discord's, headers included, so discord.py sleeps ``retry_after``
        and retries. Other statuses get ``{"code": code, "message": message}``. discord.py
        retries 500/502/504 by itself after 1, 3, 5… seconds.
        """
        self._failures.append(
            _Failure(
                method.upper(),
                re.compile(path_regex),
                status,
                retry_after,
                times,
                global_,
                code,
                message,
            )
        )

    def expire_tokens(self) -> None:
        """Every interaction token issued so far is now expired (as after 15 minutes)."""
        for record in self.interactions.values():
            record.expired = True

    async def wait_until_ready(self, timeout: float = 10) -> None:
        """Until a client holds a live gateway session that has had READY and GUILD_CREATE."""
        await self._wait_until(
            lambda: bool(self.gateway.live_sessions()), timeout, "a READY gateway client"
        )

    async def wait_for_commands(self, timeout: float = 10) -> list[dict[str, Any]]:
        """Until the bot has PUT its application commands at least once."""
        await self._wait_until(lambda: self.command_puts > 0, timeout, "application commands PUT")
        return self.commands

    async def wait_for(
        self,
        predicate: Callable[[], bool] | Callable[[], Awaitable[bool]],
        timeout: float = 10,
    ) -> None:
        """Poll ``predicate`` (sync or async) until it is true; AssertionError after ``timeout``."""

        async def check() -> bool:
            result = predicate()
            if inspect.isawaitable(result):
                result = await result
            return bool(result)

        name = getattr(predicate, "__qualname__", repr(predicate))
        await self._wait_until(check, timeout, f"predicate {name}")

    async def wait_for_message(
        self, predicate: Callable[[RecordedMessage], bool], timeout: float = 10
    ) -> RecordedMessage:
        """The first message (oldest first, existing ones included) for which
        ``predicate`` holds, waiting for it if need be."""

        def check() -> RecordedMessage | None:
            for message in list(self.messages.values()):
                if predicate(message):
                    return message
            return None

        result: RecordedMessage = await self._wait_until(check, timeout, "a matching message")
        return result

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    async def _wait_until(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}\n{self.describe()}"
                )
            if changed is None:
                changed = asyncio.Event()
            # Wake on any change; re-check now and then for conditions outside the fake.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.05))

    def describe(self, last: int = 12) -> str:
        """A summary of recent traffic, for failure messages."""
        lines = [f"gateway: {len(self.gateway.live_sessions())} live session(s)"]
        lines += [f"stand-in error: {e}" for e in self.errors[-3:]]
        lines.append(f"last {last} requests:")
        lines += [f"  {r.status} {r.method} {r.path}" for r in self.requests[-last:]]
        lines.append(f"last {last} messages:")
        for m in list(self.messages.values())[-last:]:
            tags = [
                t
                for t, on in (
                    ("ephemeral", m.ephemeral),
                    ("loading", m.loading),
                    ("deleted", m.deleted),
                )
                if on
            ]
            lines.append(
                f"  {m.id} in {m.channel_id} {','.join(tags)} {m.content[:60]!r} "
                f"files={m.attachment_names} ids={m.custom_ids}"
            )
        return "\n".join(lines)

    # -- driving the bot as a user ----------------------------------------------------------

    async def slash(
        self,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Run a registered slash command: ``"imagine"``, ``"prefer option set"`` (group,
        subcommand), with options by name; types come from the registered schema."""
        user = user or self.owner
        names = command.split()
        if not names:
            raise ValueError("empty command")
        registered, scope = self._find_command(names[0])
        self._check_command_permissions(registered, user)
        data = self._command_data(registered, scope, names, options or {}, focused=None)
        return await self._start_interaction(
            APPLICATION_COMMAND, data, user, channel_id, locale=locale
        )

    async def autocomplete(
        self,
        command: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
    ) -> InteractionRecord:
        """Ask for autocomplete choices while ``focused`` is being typed; the choices the
        bot answers with are in ``rec.choices`` once ``await rec.wait_acknowledged()``."""
        user = user or self.owner
        names = command.split()
        registered, scope = self._find_command(names[0])
        data = self._command_data(registered, scope, names, options, focused=focused)
        return await self._start_interaction(AUTOCOMPLETE, data, user, channel_id)

    async def press(
        self, message_id: int, custom_id: str, *, user: FakeUser | None = None
    ) -> InteractionRecord:
        """Click the button with ``custom_id`` on a message."""
        message, component = self._find_component(message_id, custom_id, {BUTTON})
        if component.get("disabled"):
            raise AssertionError(f"button {custom_id!r} on message {message_id} is disabled")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": BUTTON}
        if "id" in component:
            data["id"] = component["id"]
        return await self._start_interaction(
            MESSAGE_COMPONENT, data, user or self.owner, message.channel_id, message=message
        )

    async def select(
        self,
        message_id: int,
        custom_id: str,
        values: list[Any],
        *,
        user: FakeUser | None = None,
    ) -> InteractionRecord:
        """Choose ``values`` in the select menu with ``custom_id`` on a message (ids for
        user, role and channel selects)."""
        message, component = self._find_component(message_id, custom_id, _SELECTS)
        if component.get("disabled"):
            raise AssertionError(f"select {custom_id!r} on message {message_id} is disabled")
        kind = component["type"]
        chosen = [str(v.id if isinstance(v, FakeUser) else v) for v in values]
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(chosen) <= high:
            raise AssertionError(
                f"select {custom_id!r} takes {low}..{high} values, not {len(chosen)}"
            )
        if kind == STRING_SELECT:
            offered = [o["value"] for o in component.get("options", [])]
            unknown = [v for v in chosen if v not in offered]
            if unknown:
                raise AssertionError(f"select {custom_id!r} offers {offered}, not {unknown}")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind, "values": chosen}
        if "id" in component:
            data["id"] = component["id"]
        if kind != STRING_SELECT:
            data["resolved"] = self._resolve_ids(chosen)
        return await self._start_interaction(
            MESSAGE_COMPONENT, data, user or self.owner, message.channel_id, message=message
        )

    async def submit_modal(
        self,
        record: InteractionRecord,
        values: dict[str, Any],
        *,
        user: FakeUser | None = None,
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot opened in answer to ``record``.

        ``values`` maps each input's ``custom_id`` to its text (or list of values for a
        select inside a label); inputs left out are submitted empty.
        """
        modal = record.modal
        if modal is None:
            raise AssertionError(f"interaction {record.id} was not answered with a modal")
        components: list[dict[str, Any]] = []
        for component in modal.get("components", []):
            submitted = self._submitted_component(component, values)
            if submitted is not None:
                components.append(submitted)
        data = {"custom_id": modal["custom_id"], "components": components}
        message = self.messages.get(record.message_id) if record.message_id else None
        return await self._start_interaction(
            MODAL_SUBMIT, data, user or record.user, record.channel_id, message=message
        )

    async def user_message(
        self,
        content: str,
        *,
        user: FakeUser | None = None,
        channel_id: int | None = None,
        reply_to: int | None = None,
    ) -> RecordedMessage:
        """A member posts a message; the bot gets MESSAGE_CREATE (content only with the
        message-content intent, or when it mentions the bot, as on Discord)."""
        user = user or self.owner
        channel_id = channel_id or self.channel_id
        reference = None
        if reply_to is not None:
            reference = {
                "message_id": str(reply_to),
                "channel_id": str(channel_id),
                "guild_id": str(self.guild_id),
            }
        message = RecordedMessage(
            id=self._snowflake(),
            channel_id=channel_id,
            author_id=user.id,
            content=content,
            message_reference=reference,
            type=19 if reference else 0,
        )
        self.messages[message.id] = message
        self._notify()
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    # -- interactions, internals ------------------------------------------------------------

    def _find_command(self, name: str) -> tuple[dict[str, Any], int | None]:
        for scope in (self.guild_id, None):
            for registered in self._commands.get(scope, []):
                if registered["name"] == name and registered.get("type", 1) == 1:
                    return registered, scope
        known = sorted({c["name"] for cs in self._commands.values() for c in cs})
        raise AssertionError(f"no slash command {name!r} is registered; registered: {known}")

    def _check_command_permissions(self, registered: dict[str, Any], user: FakeUser) -> None:
        needed = registered.get("default_member_permissions")
        if not self.enforce_default_member_permissions or needed is None:
            return
        if int(needed) & ~self.permissions_of(user):
            raise AssertionError(f"{user.name} may not use /{registered['name']} (needs {needed})")

    def _command_data(
        self,
        registered: dict[str, Any],
        scope: int | None,
        names: list[str],
        options: dict[str, Any],
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        resolved: dict[str, dict[str, Any]] = {}
        node = registered
        chain: list[tuple[str, int]] = []
        for sub in names[1:]:
            child = next(
                (
                    o
                    for o in node.get("options", [])
                    if o["name"] == sub and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
                ),
                None,
            )
            if child is None:
                subs = [o["name"] for o in node.get("options", []) if o["type"] in (1, 2)]
                raise AssertionError(
                    f"/{' '.join(names)}: {node['name']!r} has no subcommand {sub!r}; it has {subs}"
                )
            chain.append((child["name"], child["type"]))
            node = child
        subs = [
            o["name"]
            for o in node.get("options", [])
            if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
        ]
        if subs:
            raise AssertionError(
                f"/{' '.join(names)} is a group; name one of its subcommands: {subs}"
            )
        leaf = self._option_values(node, options, resolved, focused=focused, path=" ".join(names))
        for name, kind in reversed(chain):
            leaf = [{"name": name, "type": kind, "options": leaf}]
        data: dict[str, Any] = {
            "id": registered["id"],
            "name": registered["name"],
            "type": registered.get("type", 1),
            "options": leaf,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        return data

    def _option_values(
        self,
        node: dict[str, Any],
        options: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None,
        path: str,
    ) -> list[dict[str, Any]]:
        schema = {o["name"]: o for o in node.get("options", [])}
        result: list[dict[str, Any]] = []
        for name, value in options.items():
            option = schema.get(name)
            if option is None:
                raise AssertionError(f"/{path} has no option {name!r}; it has {sorted(schema)}")
            kind = option["type"]
            entry: dict[str, Any] = {"name": name, "type": kind}
            if name == focused:
                entry["value"] = str(value)
                entry["focused"] = True
                result.append(entry)
                continue
            entry["value"] = self._option_value(option, value, resolved, path)
            result.append(entry)
        if focused is None:
            missing = [n for n, o in schema.items() if o.get("required") and n not in options]
            if missing:
                raise AssertionError(f"/{path} needs option(s) {missing}")
        elif focused not in options:
            raise AssertionError(f"focused option {focused!r} must be among the options given")
        return result

    def _option_value(
        self, option: dict[str, Any], value: Any, resolved: dict[str, dict[str, Any]], path: str
    ) -> Any:
        kind = option["type"]
        name = option["name"]
        converted: Any
        if kind == STRING:
            converted = str(value)
        elif kind == INTEGER:
            converted = int(value)
        elif kind == NUMBER:
            converted = float(value)
        elif kind == BOOLEAN:
            converted = bool(value)
        elif kind in (USER, CHANNEL, ROLE, MENTIONABLE):
            snowflake = value.id if isinstance(value, FakeUser) else int(value)
            extra = self._resolve_ids(
                [str(snowflake)], only={USER: "users", CHANNEL: "channels", ROLE: "roles"}.get(kind)
            )
            if not extra:
                raise AssertionError(
                    f"/{path} option {name!r}: no user, channel or role {snowflake}"
                )
            if kind == CHANNEL and option.get("channel_types"):
                channel = self.channels[snowflake]
                if channel.type not in option["channel_types"]:
                    raise AssertionError(
                        f"/{path} option {name!r} takes channel types {option['channel_types']}"
                    )
            for key, items in extra.items():
                resolved.setdefault(key, {}).update(items)
            converted = str(snowflake)
        elif kind == ATTACHMENT:
            filename, data = value if isinstance(value, tuple) else ("upload.bin", value)
            attachment = self._store_upload(
                self.channel_id, _Upload(0, filename, guess_content_type(filename, None), data)
            )
            resolved.setdefault("attachments", {})[str(attachment.id)] = self._attachment_payload(
                attachment, False
            )
            converted = str(attachment.id)
        else:
            raise AssertionError(f"/{path} option {name!r} has unsupported type {kind}")
        choices = option.get("choices")
        if choices and converted not in [c["value"] for c in choices]:
            raise AssertionError(
                f"/{path} option {name!r} must be one of {[c['value'] for c in choices]}"
            )
        if kind in (INTEGER, NUMBER):
            low_value, high_value = option.get("min_value"), option.get("max_value")
            if (low_value is not None and converted < low_value) or (
                high_value is not None and converted > high_value
            ):
                raise AssertionError(f"/{path} option {name!r}: {converted} is out of range")
        if kind == STRING:
            low, high = option.get("min_length", 0), option.get("max_length", 6000)
            if not low <= len(converted) <= high:
                raise AssertionError(f"/{path} option {name!r}: length must be {low}..{high}")
        return converted

    def _resolve_ids(self, ids: list[str], only: str | None = None) -> dict[str, dict[str, Any]]:
        """The ``resolved`` block for snowflakes: users (with members), channels, roles."""
        result: dict[str, dict[str, Any]] = {}
        roles = {r["id"]: r for r in self._roles_payload()}
        for raw in ids:
            snowflake = int(raw)
            if only in (None, "users") and (
                snowflake in self.users or snowflake == self.bot_user_id
            ):
                user = self._user_payload(snowflake)
                result.setdefault("users", {})[raw] = user
                member = self._member_payload(snowflake, with_user=False)
                member["permissions"] = str(self._permissions_of_id(snowflake))
                result.setdefault("members", {})[raw] = member
            elif only in (None, "channels") and snowflake in self.channels:
                channel = self._channel_payload(self.channels[snowflake])
                channel["permissions"] = str(Perm.ALL)
                result.setdefault("channels", {})[raw] = channel
            elif only in (None, "roles") and raw in roles:
                result.setdefault("roles", {})[raw] = roles[raw]
        return result

    def _find_component(
        self, message_id: int, custom_id: str, kinds: set[int]
    ) -> tuple[RecordedMessage, dict[str, Any]]:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise AssertionError(f"no message {message_id} to interact with\n{self.describe()}")
        component = message.component(custom_id)
        if component is None:
            raise AssertionError(
                f"message {message_id} has no component {custom_id!r}; it has {message.custom_ids}"
            )
        if component.get("type") not in kinds:
            raise AssertionError(
                f"component {custom_id!r} is of type {component.get('type')}, not {sorted(kinds)}"
            )
        return message, component

    def _submitted_component(
        self, component: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any] | None:
        kind = component.get("type")
        if kind == ACTION_ROW:
            children = [
                self._submitted_component(c, values) for c in component.get("components", [])
            ]
            return {"type": ACTION_ROW, "components": [c for c in children if c is not None]}
        if kind == LABEL:
            child = self._submitted_component(component["component"], values)
            if child is None:
                return None
            result = {"type": LABEL, "component": child}
            if "id" in component:
                result["id"] = component["id"]
            return result
        custom_id = component.get("custom_id")
        if custom_id is None:
            return None
        value = values.get(custom_id)
        result = {"type": kind, "custom_id": custom_id}
        if "id" in component:
            result["id"] = component["id"]
        if kind == TEXT_INPUT:
            text = "" if value is None else str(value)
            if component.get("required", True) and not text:
                raise AssertionError(f"modal input {custom_id!r} is required")
            result["value"] = text
        else:
            result["values"] = [str(v) for v in (value or [])]
        return result

    async def _start_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: FakeUser,
        channel_id: int | None,
        *,
        message: RecordedMessage | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        channel_id = channel_id or self.channel_id
        if channel_id not in self.channels:
            raise AssertionError(f"no channel {channel_id}")
        record = InteractionRecord(
            id=self._snowflake(),
            token="aW50ZXJhY3Rpb246" + secrets.token_urlsafe(60),
            type=kind,
            user=user,
            data=data,
            channel_id=channel_id,
            message_id=message.id if message is not None else None,
            _fake=self,
        )
        self.interactions[record.id] = record
        self._by_token[record.token] = record
        payload = self._interaction_payload(record, message, locale)
        session = await self.gateway.dispatch_one("INTERACTION_CREATE", payload)
        if session is None:
            raise AssertionError("no bot holds a gateway session to receive the interaction")
        self._notify()
        return record

    def _interaction_payload(
        self, record: InteractionRecord, message: RecordedMessage | None, locale: str
    ) -> dict[str, Any]:
        channel = self._channel_payload(self.channels[record.channel_id])
        permissions = str(self.permissions_of(record.user))
        channel["permissions"] = permissions
        payload: dict[str, Any] = {
            "id": str(record.id),
            "application_id": str(self.application_id),
            "type": record.type,
            "data": record.data,
            "guild_id": str(self.guild_id),
            "guild": {"id": str(self.guild_id), "locale": "en-US", "features": []},
            "channel_id": str(record.channel_id),
            "channel": channel,
            "member": {**self._member_payload(record.user.id), "permissions": permissions},
            "token": record.token,
            "version": 1,
            "app_permissions": str(Perm.BOT),
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": self.attachment_size_limit,
        }
        if message is not None:
            payload["message"] = self._message_payload(message)
        return payload

    def _interaction_record(self, interaction_id: str, token: str) -> InteractionRecord:
        record = self.interactions.get(int(interaction_id))
        if record is None or record.token != token:
            raise DiscordError(404, 10062, "Unknown interaction")
        return record

    def _webhook_record(self, application_id: str, token: str) -> InteractionRecord:
        if int(application_id) != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        record = self._by_token.get(token)
        if record is None or self._expired(record):
            raise _invalid_webhook_token()
        return record

    def _expired(self, record: InteractionRecord) -> bool:
        return record.expired or time.monotonic() - record.created_at > self.token_lifetime_seconds

    # -- REST plumbing -----------------------------------------------------------------------

    def _build_routes(self) -> None:
        snowflake = r"(?P<{}>\d+)"
        token = r"(?P<token>[^/]+)"
        app = f"/applications/{snowflake.format('app')}"
        guild = f"/guilds/{snowflake.format('guild')}"
        channel = f"/channels/{snowflake.format('channel')}"
        message = f"{channel}/messages/{snowflake.format('message')}"
        hook = f"/webhooks/{snowflake.format('app')}/{token}"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", f"/users/{snowflake.format('user')}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", f"{app}/commands", self._get_commands, True),
            ("PUT", f"{app}/commands", self._put_commands, True),
            ("POST", f"{app}/commands", self._post_command, True),
            ("GET", f"{app}/commands/{snowflake.format('command')}", self._get_command, True),
            ("PATCH", f"{app}/commands/{snowflake.format('command')}", self._patch_command, True),
            ("DELETE", f"{app}/commands/{snowflake.format('command')}", self._delete_command, True),
            ("GET", f"{app}{guild}/commands/permissions", self._get_command_permissions, True),
            ("GET", f"{app}{guild}/commands", self._get_commands, True),
            ("PUT", f"{app}{guild}/commands", self._put_commands, True),
            ("POST", f"{app}{guild}/commands", self._post_command, True),
            (
                "GET",
                f"{app}{guild}/commands/{snowflake.format('command')}",
                self._get_command,
                True,
            ),
            (
                "PATCH",
                f"{app}{guild}/commands/{snowflake.format('command')}",
                self._patch_command,
                True,
            ),
            (
                "DELETE",
                f"{app}{guild}/commands/{snowflake.format('command')}",
                self._delete_command,
                True,
            ),
            ("GET", guild, self._get_guild, True),
            ("GET", f"{guild}/channels", self._get_guild_channels, True),
            ("GET", f"{guild}/roles", self._get_roles, True),
            ("GET", f"{guild}/members/{snowflake.format('user')}", self._get_member, True),
            ("GET", channel, self._get_channel, True),
            ("POST", f"{channel}/typing", self._typing, True),
            ("GET", f"{channel}/messages", self._list_messages, True),
            ("POST", f"{channel}/messages", self._create_message, True),
            ("GET", message, self._get_message, True),
            ("PATCH", message, self._edit_message, True),
            ("DELETE", message, self._delete_message, True),
            ("PUT", f"{message}/reactions/(?P<emoji>[^/]+)/@me", self._add_reaction, True),
            ("DELETE", f"{message}/reactions/(?P<emoji>[^/]+)/@me", self._remove_reaction, True),
            ("DELETE", f"{message}/reactions", self._clear_reactions, True),
            (
                "POST",
                f"/interactions/{snowflake.format('interaction')}/{token}/callback",
                self._callback,
                False,
            ),
            ("GET", f"{hook}/messages/@original", self._get_original, False),
            ("PATCH", f"{hook}/messages/@original", self._edit_original, False),
            ("DELETE", f"{hook}/messages/@original", self._delete_original, False),
            ("POST", hook, self._create_followup, False),
            ("GET", f"{hook}/messages/{snowflake.format('message')}", self._get_followup, False),
            ("PATCH", f"{hook}/messages/{snowflake.format('message')}", self._edit_followup, False),
            (
                "DELETE",
                f"{hook}/messages/{snowflake.format('message')}",
                self._delete_followup,
                False,
            ),
        ]
        self._routes = [(m, re.compile(p + "$"), h, auth) for m, p, h, auth in table]

    def _ratelimit_headers(self, bucket: str) -> dict[str, str]:
        return {
            "Via": "1.1 google",
            "X-RateLimit-Bucket": hashlib.md5(bucket.encode()).hexdigest()[:16],
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
        }

    def _injected_failure(self, method: str, path: str) -> DiscordError | None:
        for failure in self._failures:
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
            code, message = _default_error(failure.status)
            return DiscordError(failure.status, failure.code or code, failure.message or message)
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        req = _Request(self, request, path)
        headers = {"Via": "1.1 google"}
        try:
            failure = self._injected_failure(method, path)
            if failure is not None:
                raise failure
            handler, groups, auth, template = self._match(method, path)
            headers = self._ratelimit_headers(f"{method} {template}")
            if auth and request.headers.get("Authorization") != f"Bot {self.bot_token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            status, body = await handler(req, **groups)
        except DiscordError as error:
            status, body = error.status, error.body
            headers.update(error.headers)
        except Exception as exc:
            # A request the stand-in cannot make sense of (or a bug in it). A 400, not a 500:
            # discord.py would retry a 500 for half a minute before giving up.
            self.errors.append(f"{method} {path}: {traceback.format_exc()}")
            _log.exception("stand-in failed on %s %s", method, path)
            status, body = 400, {"code": 0, "message": f"stand-in could not handle it: {exc!r}"}
        self.requests.append(RequestRecord(method, path, status, time.monotonic(), req.query))
        self._notify()
        if body is None:
            return web.Response(status=status, headers=headers)
        headers["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str], bool, str]:
        path_matched = False
        for route_method, pattern, handler, auth in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            path_matched = True
            if route_method == method:
                return handler, match.groupdict(), auth, pattern.pattern
        if path_matched:
            raise DiscordError(405, 0, "405: Method Not Allowed")
        raise DiscordError(404, 0, "404: Not Found")

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        """The CDN: the bytes of an uploaded file, at the ``url`` its attachment reports."""
        attachment = self.uploads.get(int(request.match_info["attachment"]))
        if attachment is not None:
            return web.Response(
                body=attachment.data,
                headers={"Content-Type": attachment.content_type or "application/octet-stream"},
            )
        return web.Response(status=404)

    # -- payloads ------------------------------------------------------------------------------

    def _user_payload(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_user_id:
            name, global_name, bot = self.bot_name, None, True
        else:
            user = self.users.get(user_id)
            if user is None:
                raise DiscordError(404, 10013, "Unknown User")
            name, global_name, bot = user.name, user.global_name, user.bot
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }

    def _roles_of(self, user_id: int) -> list[int]:
        if user_id == self.bot_user_id:
            return [self.bot_role_id]
        user = self.users.get(user_id)
        return [self.moderator_role_id] if user is not None and user.manage_guild else []

    def _permissions_of_id(self, user_id: int) -> int:
        if user_id == self.bot_user_id:
            return Perm.BOT
        user = self.users.get(user_id)
        return self.permissions_of(user) if user is not None else Perm.EVERYONE

    def _member_payload(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        user = self.users.get(user_id)
        member: dict[str, Any] = {
            "roles": [str(r) for r in self._roles_of(user_id)],
            "joined_at": iso(time.time() - 86_400),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "nick": user.nick if user is not None else None,
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
        }
        if with_user:
            member["user"] = self._user_payload(user_id)
        return member

    def _member_list_payloads(self) -> list[dict[str, Any]]:
        return [self._member_payload(uid) for uid in [self.bot_user_id, *self.users]]

    def _roles_payload(self) -> list[dict[str, Any]]:
        def role(
            role_id: int, name: str, permissions: int, position: int, **extra: Any
        ) -> dict[str, Any]:
            return {
                "id": str(role_id),
                "name": name,
                "permissions": str(permissions),
                "position": position,
                "color": 0,
                "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "icon": None,
                "unicode_emoji": None,
                "flags": 0,
                **extra,
            }

        return [
            role(self.guild_id, "@everyone", Perm.EVERYONE, 0),
            role(
                self.moderator_role_id,
                "Moderator",
                Perm.EVERYONE | Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES,
                1,
            ),
            role(
                self.bot_role_id,
                self.bot_name,
                Perm.BOT,
                2,
                managed=True,
                tags={"bot_id": str(self.bot_user_id)},
            ),
        ]

    def _channel_payload(self, channel: _Channel) -> dict[str, Any]:
        last = [
            m.id for m in self.messages.values() if m.channel_id == channel.id and not m.ephemeral
        ]
        payload: dict[str, Any] = {
            "id": str(channel.id),
            "type": channel.type,
            "last_message_id": str(last[-1]) if last else None,
            "flags": 0,
        }
        if channel.type == 1:
            payload["recipients"] = [self._user_payload(channel.recipient_id or 0)]
            return payload
        payload.update(
            {
                "guild_id": str(self.guild_id),
                "name": channel.name,
                "position": channel.position,
                "permission_overwrites": [],
                "parent_id": str(channel.parent_id) if channel.parent_id else None,
                "topic": channel.topic,
                "nsfw": False,
                "rate_limit_per_user": 0,
            }
        )
        return payload

    def _guild_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.guild_owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": self._roles_payload(),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500_000,
            "max_video_channel_users": 25,
            "application_id": None,
        }

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        user = self._user_payload(self.bot_user_id)
        user.update(verified=True, mfa_enabled=False, email=None)
        return {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": list(session.shard),
            "application": {"id": str(self.application_id), "flags": 1 << 23},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["stand-in-gateway",{"micros":0}]'],
        }

    def _guild_create_payloads(self, session: GatewaySession) -> list[dict[str, Any]]:
        guild = self._guild_payload()
        guild.update(
            {
                "unavailable": False,
                "joined_at": iso(time.time() - 3600),
                "large": False,
                "member_count": len(self.users) + 1,
                "channels": [
                    self._channel_payload(c) for c in self.channels.values() if c.in_guild
                ],
                "threads": [],
                "members": [self._member_payload(self.bot_user_id)],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
                "lazy": True,
                "application_command_counts": {},
            }
        )
        return [guild]

    def _attachment_payload(
        self, attachment: RecordedAttachment, ephemeral: bool
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": attachment.url,
            "proxy_url": attachment.url,
            "content_type": attachment.content_type,
            "ephemeral": ephemeral,
            "flags": 0,
        }
        if attachment.description is not None:
            payload["description"] = attachment.description
        if attachment.width is not None:
            payload["width"] = attachment.width
            payload["height"] = attachment.height
        return payload

    def _resolved_embeds(self, message: RecordedMessage) -> list[dict[str, Any]]:
        """Embeds as Discord returns them: ``attachment://name`` turned into the file's URL."""
        by_name = {a.filename: a for a in message.attachments}
        embeds = copy.deepcopy(message.embeds)
        for embed in embeds:
            embed.setdefault("type", "rich")
            for key, url_key in (
                ("image", "url"),
                ("thumbnail", "url"),
                ("author", "icon_url"),
                ("footer", "icon_url"),
            ):
                part = embed.get(key)
                if not isinstance(part, dict):
                    continue
                url = part.get(url_key)
                if isinstance(url, str) and url.startswith("attachment://"):
                    attachment = by_name.get(url.removeprefix("attachment://"))
                    if attachment is None:
                        continue
                    part[url_key] = attachment.url
                    part["proxy_" + url_key] = attachment.url
                    if key in ("image", "thumbnail") and attachment.width is not None:
                        part.update(width=attachment.width, height=attachment.height)
        return embeds

    def _message_payload(self, message: RecordedMessage, *, nested: bool = False) -> dict[str, Any]:
        channel = self.channels.get(message.channel_id)
        mentioned = [int(m) for m in _MENTION.findall(message.content)]
        mentions = [
            self._user_payload(uid)
            for uid in dict.fromkeys(mentioned)
            if uid in self.users or uid == self.bot_user_id
        ]
        payload: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self._user_payload(message.author_id),
            "content": message.content,
            "timestamp": iso(message.timestamp),
            "edited_timestamp": iso(message.edited_timestamp) if message.edited_timestamp else None,
            "tts": message.tts,
            "mention_everyone": False,
            "mentions": mentions,
            "mention_roles": [],
            "attachments": [
                self._attachment_payload(a, message.ephemeral) for a in message.attachments
            ],
            "embeds": self._resolved_embeds(message),
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
            "components": copy.deepcopy(message.components),
        }
        if channel is not None and channel.in_guild:
            payload["guild_id"] = str(self.guild_id)
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.reactions:
            payload["reactions"] = [
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": self.bot_user_id in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in message.reactions.items()
                if users
            ]
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(self.application_id)
        record = self.interactions.get(message.interaction_id) if message.interaction_id else None
        if record is not None:
            metadata: dict[str, Any] = {
                "id": str(record.id),
                "type": record.type,
                "user": self._user_payload(record.user.id),
                "authorizing_integration_owners": {"0": str(self.guild_id)},
            }
            if record.original is not None and record.original is not message:
                metadata["original_response_message_id"] = str(record.original.id)
            if record.message_id is not None:
                metadata["interacted_message_id"] = str(record.message_id)
            if record.type == APPLICATION_COMMAND:
                metadata["name"] = record.data.get("name")
                payload["interaction"] = {
                    "id": str(record.id),
                    "type": record.type,
                    "name": _full_command_name(record.data),
                    "user": self._user_payload(record.user.id),
                }
            payload["interaction_metadata"] = metadata
        if message.message_reference is not None:
            payload["message_reference"] = {"type": 0, **message.message_reference}
            if not nested:
                ref_id = int(message.message_reference.get("message_id") or 0)
                referenced = self.messages.get(ref_id)
                payload["referenced_message"] = (
                    self._message_payload(referenced, nested=True)
                    if referenced is not None and not referenced.deleted
                    else None
                )
        return payload

    # -- messages ------------------------------------------------------------------------------

    def _store_upload(
        self, channel_id: int, upload: _Upload, description: str | None = None
    ) -> RecordedAttachment:
        attachment_id = self._snowflake()
        size = image_size(upload.data)
        attachment = RecordedAttachment(
            filename=upload.filename,
            content_type=upload.content_type,
            data=upload.data,
            id=attachment_id,
            description=description,
            width=size[0] if size else None,
            height=size[1] if size else None,
            url=f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{upload.filename}",
        )
        self.uploads[attachment.id] = attachment
        return attachment

    def _new_attachments(
        self,
        channel_id: int,
        payload: dict[str, Any],
        uploads: list[_Upload],
        existing: list[RecordedAttachment],
    ) -> list[RecordedAttachment]:
        """The attachments a create or edit leaves on the message.

        ``attachments`` in the payload lists what to keep (ids of existing ones) and
        describes new uploads (``id`` = the ``files[n]`` index); files it does not mention
        are added after. Without ``attachments`` an edit keeps what the message had.
        """
        by_index = {u.index: u for u in uploads}
        used: set[int] = set()
        result: list[RecordedAttachment] = []
        listed = payload.get("attachments")
        if listed is None:
            result = list(existing)
        else:
            existing_by_id = {a.id: a for a in existing}
            for entry in listed:
                try:
                    entry_id = int(entry.get("id"))
                except (TypeError, ValueError):
                    continue
                if entry_id in existing_by_id:
                    result.append(existing_by_id[entry_id])
                elif entry_id in by_index and entry_id not in used:
                    upload = by_index[entry_id]
                    used.add(entry_id)
                    if entry.get("filename"):
                        upload.filename = entry["filename"]
                    result.append(self._store_upload(channel_id, upload, entry.get("description")))
        for upload in uploads:
            if upload.index not in used:
                result.append(self._store_upload(channel_id, upload))
        if len(result) > 10:
            raise _form_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        return result

    def _validate(
        self,
        content: str,
        embeds: list[dict[str, Any]],
        components: list[dict[str, Any]],
        attachments: list[RecordedAttachment],
        flags: int,
        *,
        allow_empty: bool = False,
    ) -> None:
        """Discord's checks on a message's contents (a subset: the ones bots trip over)."""
        v2 = bool(flags & IS_COMPONENTS_V2)
        if v2 and (content or embeds):
            raise _form_error(
                "content" if content else "embeds",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used with the IS_COMPONENTS_V2 flag.",
            )
        if len(content) > 2000:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if not allow_empty and not (content or embeds or components or attachments):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        if len(embeds) > 10:
            raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        limits = {"title": 256, "description": 4096}
        for i, embed in enumerate(embeds):
            for key, limit in limits.items():
                text = embed.get(key) or ""
                total += len(text)
                if len(text) > limit:
                    raise _form_error(
                        f"embeds.{i}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
            fields = embed.get("fields") or []
            if len(fields) > 25:
                raise _form_error(
                    f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            for j, field in enumerate(fields):
                for key, limit in (("name", 256), ("value", 1024)):
                    text = str(field.get(key) or "")
                    total += len(text)
                    if not text or len(text) > limit:
                        raise _form_error(
                            f"embeds.{i}.fields.{j}.{key}",
                            "BASE_TYPE_BAD_LENGTH",
                            f"Must be between 1 and {limit} in length.",
                        )
            footer = (embed.get("footer") or {}).get("text") or ""
            author = (embed.get("author") or {}).get("name") or ""
            total += len(footer) + len(author)
            if len(footer) > 2048 or len(author) > 256:
                raise _form_error(
                    f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "Embed footer or author is too long."
                )
        if total > 6000:
            raise _form_error(
                "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        self._validate_components(components, v2)

    def _validate_components(self, components: list[dict[str, Any]], v2: bool) -> None:
        if not v2:
            if len(components) > 5:
                raise _form_error(
                    "components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                )
            for i, row in enumerate(components):
                if row.get("type") != ACTION_ROW:
                    raise _form_error(
                        f"components.{i}",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "Top-level components must be action rows without IS_COMPONENTS_V2.",
                    )
        elif sum(1 for _ in _walk_components(components)) > 40:
            raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in total.")
        seen: set[str] = set()
        for component in _walk_components(components):
            kind = component.get("type")
            if kind == ACTION_ROW:
                children = component.get("components") or []
                selects = [c for c in children if c.get("type") in _SELECTS]
                if not children or len(children) > 5 or (selects and len(children) > 1):
                    raise _form_error(
                        "components",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "An action row holds 1-5 buttons or one select.",
                    )
            custom_id = component.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= 100:
                    raise _form_error(
                        "components",
                        "BASE_TYPE_BAD_LENGTH",
                        "custom_id must be between 1 and 100 in length.",
                    )
                if custom_id in seen:
                    raise _form_error(
                        "components",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            if kind == BUTTON:
                style = component.get("style")
                if style == 5 and not component.get("url"):
                    raise _form_error(
                        "components", "BUTTON_COMPONENT_URL_REQUIRED", "A link button needs a url."
                    )
                if style not in (5, 6) and custom_id is None:
                    raise _form_error(
                        "components",
                        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                        "A button needs a custom_id.",
                    )
                if len(component.get("label") or "") > 80:
                    raise _form_error(
                        "components",
                        "BASE_TYPE_MAX_LENGTH",
                        "Button labels must be 80 or fewer in length.",
                    )
            if kind == STRING_SELECT:
                options = component.get("options") or []
                if not 1 <= len(options) <= 25:
                    raise _form_error(
                        "components", "BASE_TYPE_BAD_LENGTH", "A select needs 1 to 25 options."
                    )

    def _create(
        self,
        channel_id: int,
        payload: dict[str, Any],
        uploads: list[_Upload],
        *,
        author_id: int,
        ephemeral: bool = False,
        interaction: InteractionRecord | None = None,
        message_type: int = 0,
        extra_flags: int = 0,
        allow_empty: bool = False,
    ) -> RecordedMessage:
        content = payload.get("content")
        content = "" if content is None else str(content)
        embeds = list(payload.get("embeds") or [])
        components = list(payload.get("components") or [])
        flags = (int(payload.get("flags") or 0) & _SENDABLE_FLAGS) | extra_flags
        flags = flags | EPHEMERAL if ephemeral else flags & ~EPHEMERAL
        attachments = self._new_attachments(channel_id, payload, uploads, [])
        self._validate(content, embeds, components, attachments, flags, allow_empty=allow_empty)
        message = RecordedMessage(
            id=self._snowflake(),
            channel_id=channel_id,
            author_id=author_id,
            content=content,
            embeds=embeds,
            components=components,
            attachments=attachments,
            flags=flags,
            ephemeral=ephemeral,
            interaction_id=interaction.id if interaction is not None else None,
            message_reference=payload.get("message_reference"),
            type=message_type,
            webhook_id=self.application_id if interaction is not None else None,
            nonce=payload.get("nonce"),
            tts=bool(payload.get("tts")),
        )
        self.messages[message.id] = message
        return message

    def _edit(
        self, message: RecordedMessage, payload: dict[str, Any], uploads: list[_Upload]
    ) -> None:
        """Apply a PATCH (or an UPDATE_MESSAGE callback): fields present replace, absent stay."""
        content = message.content
        if "content" in payload:
            content = "" if payload["content"] is None else str(payload["content"])
        embeds = message.embeds
        if "embeds" in payload:
            embeds = list(payload["embeds"] or [])
        components = message.components
        if "components" in payload:
            components = list(payload["components"] or [])
        flags = message.flags & ~LOADING
        if payload.get("flags") is not None:
            flags = (flags & ~_EDITABLE_FLAGS) | (int(payload["flags"]) & _EDITABLE_FLAGS)
        attachments = self._new_attachments(
            message.channel_id, payload, uploads, message.attachments
        )
        self._validate(content, embeds, components, attachments, flags)
        message.history.append(message.snapshot())
        message.content = content
        message.embeds = embeds
        message.components = components
        message.flags = flags
        message.attachments = attachments
        message.edits += 1
        message.edited_timestamp = time.time()

    async def _dispatch_message(self, event: str, message: RecordedMessage) -> None:
        """MESSAGE_CREATE / MESSAGE_UPDATE to sessions with the matching intent; content is
        blanked, as Discord does, for other people's messages without MESSAGE_CONTENT."""
        if message.ephemeral:
            return
        channel = self.channels.get(message.channel_id)
        if channel is None:
            return
        intent = GUILD_MESSAGES if channel.in_guild else DIRECT_MESSAGES
        payload = self._message_payload(message)
        if channel.in_guild and message.author_id != self.bot_user_id:
            payload["member"] = self._member_payload(message.author_id, with_user=False)

        def for_session(session: GatewaySession) -> dict[str, Any]:
            visible = (
                session.intents & MESSAGE_CONTENT
                or message.author_id == self.bot_user_id
                or not channel.in_guild
                or str(self.bot_user_id) in _MENTION.findall(message.content)
            )
            if visible:
                return payload
            return {**payload, "content": "", "embeds": [], "attachments": [], "components": []}

        await self.gateway.dispatch(event, for_session, intents=intent)

    async def _dispatch_delete(self, message: RecordedMessage) -> None:
        if message.ephemeral:
            return
        channel = self.channels.get(message.channel_id)
        if channel is None:
            return
        data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if channel.in_guild:
            data["guild_id"] = str(self.guild_id)
        await self.gateway.dispatch(
            "MESSAGE_DELETE", data, intents=GUILD_MESSAGES if channel.in_guild else DIRECT_MESSAGES
        )

    # -- REST handlers: session, users, application ---------------------------------------------

    async def _get_gateway(self, req: _Request) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }

    async def _get_me(self, req: _Request) -> tuple[int, Any]:
        user = self._user_payload(self.bot_user_id)
        user.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return 200, user

    async def _get_user(self, req: _Request, user: str) -> tuple[int, Any]:
        return 200, self._user_payload(int(user))

    async def _create_dm(self, req: _Request) -> tuple[int, Any]:
        body = await req.json()
        recipient = int(body.get("recipient_id") or 0)
        if recipient not in self.users:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        channel_id = self.dm_channel_id(recipient)
        if channel_id is None:
            channel_id = self._snowflake()
            self.channels[channel_id] = _Channel(channel_id, "", type=1, recipient_id=recipient)
        return 200, self._channel_payload(self.channels[channel_id])

    async def _get_application(self, req: _Request) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self._user_payload(self.owner.id),
            "team": None,
            "flags": 1 << 23,
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
            "bot": self._user_payload(self.bot_user_id),
            "integration_types_config": {"0": {}},
        }

    # -- REST handlers: application commands --------------------------------------------------

    def _scope(self, app: str, guild: str | None) -> int | None:
        if int(app) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        if guild is None:
            return None
        if int(guild) != self.guild_id:
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild)

    def _validate_command(self, command: dict[str, Any], where: str) -> None:
        name = command.get("name")
        kind = command.get("type", 1)
        if (
            not isinstance(name, str)
            or (kind == 1 and not _COMMAND_NAME.match(name))
            or name != name.lower()
        ):
            raise _form_error(
                f"{where}.name",
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        if kind == 1:
            self._validate_options(command, where)

    def _validate_options(self, node: dict[str, Any], where: str) -> None:
        description = node.get("description") or ""
        if not 1 <= len(description) <= 100:
            raise _form_error(
                f"{where}.description",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        options = node.get("options") or []
        if len(options) > 25:
            raise _form_error(
                f"{where}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        names = [o.get("name") for o in options]
        if len(set(names)) != len(names):
            raise _form_error(
                f"{where}.options",
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        seen_optional = False
        for i, option in enumerate(options):
            here = f"{where}.options.{i}"
            if (
                not _COMMAND_NAME.match(str(option.get("name")))
                or option["name"] != option["name"].lower()
            ):
                raise _form_error(
                    f"{here}.name", "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid"
                )
            if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
                self._validate_options(option, here)
                continue
            description = option.get("description") or ""
            if not 1 <= len(description) <= 100:
                raise _form_error(
                    f"{here}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if option.get("required"):
                if seen_optional:
                    raise _form_error(
                        f"{here}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > 25:
                raise _form_error(
                    f"{here}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )

    def _store_command(self, scope: int | None, sent: dict[str, Any]) -> dict[str, Any]:
        kind = sent.get("type", 1)
        key = (scope, sent["name"], kind)
        command_id = self._command_ids.setdefault(key, self._snowflake())
        stored = copy.deepcopy(sent)
        stored.update(
            {
                "id": str(command_id),
                "application_id": str(self.application_id),
                "version": str(self._snowflake()),
                "type": kind,
                "description": sent.get("description", ""),
                "default_member_permissions": sent.get("default_member_permissions"),
                "nsfw": bool(sent.get("nsfw", False)),
                "options": copy.deepcopy(sent.get("options") or []),
            }
        )
        if scope is not None:
            stored["guild_id"] = str(scope)
        else:
            stored.setdefault("contexts", None)
            stored.setdefault("integration_types", [0])
        return stored

    async def _get_commands(
        self, req: _Request, app: str, guild: str | None = None
    ) -> tuple[int, Any]:
        return 200, self.registered_commands(self._scope(app, guild))

    async def _put_commands(
        self, req: _Request, app: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        body, _ = await req.body()
        if not isinstance(body, list):
            raise DiscordError(400, 50035, "Invalid Form Body")
        if len(body) > 100:
            raise _form_error("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        for i, command in enumerate(body):
            self._validate_command(command, str(i))
        keys = [(c["name"], c.get("type", 1)) for c in body]
        if len(set(keys)) != len(keys):
            raise _form_error(
                "_",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        self._commands[scope] = [self._store_command(scope, c) for c in body]
        self._sent_commands[scope] = copy.deepcopy(body)
        self.command_puts += 1
        return 200, self.registered_commands(scope)

    async def _post_command(
        self, req: _Request, app: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        command = await req.json()
        self._validate_command(command, "_")
        stored = self._store_command(scope, command)
        existing = self._commands.setdefault(scope, [])
        sent = self._sent_commands.setdefault(scope, [])
        for i, other in enumerate(existing):
            if other["id"] == stored["id"]:
                existing[i], sent[i] = stored, copy.deepcopy(command)
                return 200, copy.deepcopy(stored)
        existing.append(stored)
        sent.append(copy.deepcopy(command))
        return 201, copy.deepcopy(stored)

    def _command_index(self, scope: int | None, command: str) -> int:
        for i, stored in enumerate(self._commands.get(scope, [])):
            if stored["id"] == command:
                return i
        raise DiscordError(404, 10063, "Unknown application command")

    async def _get_command(
        self, req: _Request, app: str, command: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        return 200, copy.deepcopy(self._commands[scope][self._command_index(scope, command)])

    async def _patch_command(
        self, req: _Request, app: str, command: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        index = self._command_index(scope, command)
        changes = await req.json()
        sent = {**self._sent_commands[scope][index], **changes}
        self._validate_command(sent, "_")
        self._sent_commands[scope][index] = sent
        self._commands[scope][index] = self._store_command(scope, sent)
        return 200, copy.deepcopy(self._commands[scope][index])

    async def _delete_command(
        self, req: _Request, app: str, command: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        index = self._command_index(scope, command)
        del self._commands[scope][index]
        del self._sent_commands[scope][index]
        return 204, None

    async def _get_command_permissions(
        self, req: _Request, app: str, guild: str
    ) -> tuple[int, Any]:
        self._scope(app, guild)
        return 200, []

    # -- REST handlers: guild and channels --------------------------------------------------------

    def _guild(self, guild: str) -> None:
        if int(guild) != self.guild_id:
            raise DiscordError(404, 10004, "Unknown Guild")

    def _channel(self, channel: str) -> _Channel:
        found = self.channels.get(int(channel))
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    async def _get_guild(self, req: _Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        payload = self._guild_payload()
        payload["approximate_member_count"] = len(self.users) + 1
        return 200, payload

    async def _get_guild_channels(self, req: _Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        return 200, [self._channel_payload(c) for c in self.channels.values() if c.in_guild]

    async def _get_roles(self, req: _Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        return 200, self._roles_payload()

    async def _get_member(self, req: _Request, guild: str, user: str) -> tuple[int, Any]:
        self._guild(guild)
        if int(user) not in self.users and int(user) != self.bot_user_id:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, self._member_payload(int(user))

    async def _get_channel(self, req: _Request, channel: str) -> tuple[int, Any]:
        return 200, self._channel_payload(self._channel(channel))

    async def _typing(self, req: _Request, channel: str) -> tuple[int, Any]:
        self._channel(channel)
        return 204, None

    def _channel_message(self, channel: str, message: str) -> RecordedMessage:
        self._channel(channel)
        found = self.messages.get(int(message))
        # Ephemeral messages are invisible to channel routes, as on Discord.
        if found is None or found.deleted or found.ephemeral or found.channel_id != int(channel):
            raise _unknown_message()
        return found

    async def _list_messages(self, req: _Request, channel: str) -> tuple[int, Any]:
        self._channel(channel)
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        visible = self.channel_messages(int(channel))
        if "before" in req.query:
            visible = [m for m in visible if m.id < int(req.query["before"])]
        if "after" in req.query:
            visible = [m for m in visible if m.id > int(req.query["after"])]
            visible = visible[:limit]
        if "around" in req.query:
            around = int(req.query["around"])
            older = [m for m in visible if m.id <= around][-(limit // 2 + 1) :]
            newer = [m for m in visible if m.id > around][: limit - len(older)]
            visible = older + newer
        visible = visible[-limit:]
        return 200, [self._message_payload(m) for m in reversed(visible)]

    async def _create_message(self, req: _Request, channel: str) -> tuple[int, Any]:
        target = self._channel(channel)
        payload, uploads = await req.body()
        if not isinstance(payload, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        if int(payload.get("flags") or 0) & EPHEMERAL:
            raise _form_error(
                "flags", "MESSAGE_FLAGS_INVALID", "Only interaction responses can be ephemeral."
            )
        reference = payload.get("message_reference")
        message_type = 0
        if reference:
            ref_id = int(reference.get("message_id") or 0)
            referenced = self.messages.get(ref_id)
            if (referenced is None or referenced.deleted or referenced.ephemeral) and reference.get(
                "fail_if_not_exists", True
            ):
                raise _form_error(
                    "message_reference", "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                )
            payload["message_reference"] = {
                "message_id": str(ref_id),
                "channel_id": str(reference.get("channel_id") or target.id),
                "guild_id": str(self.guild_id) if target.in_guild else None,
            }
            message_type = 19
        message = self._create(
            target.id, payload, uploads, author_id=self.bot_user_id, message_type=message_type
        )
        self._notify()
        await self._dispatch_message("MESSAGE_CREATE", message)
        return 200, self._message_payload(message)

    async def _get_message(self, req: _Request, channel: str, message: str) -> tuple[int, Any]:
        return 200, self._message_payload(self._channel_message(channel, message))

    async def _edit_message(self, req: _Request, channel: str, message: str) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        if found.author_id != self.bot_user_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        payload, uploads = await req.body()
        self._edit(found, payload, uploads)
        self._notify()
        await self._dispatch_message("MESSAGE_UPDATE", found)
        return 200, self._message_payload(found)

    async def _delete_message(self, req: _Request, channel: str, message: str) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        found.deleted = True
        self._notify()
        await self._dispatch_delete(found)
        return 204, None

    async def _add_reaction(
        self, req: _Request, channel: str, message: str, emoji: str
    ) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        users = found.reactions.setdefault(unquote(emoji), [])
        if self.bot_user_id not in users:
            users.append(self.bot_user_id)
        self._notify()
        return 204, None

    async def _remove_reaction(
        self, req: _Request, channel: str, message: str, emoji: str
    ) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        users = found.reactions.get(unquote(emoji), [])
        if self.bot_user_id in users:
            users.remove(self.bot_user_id)
        self._notify()
        return 204, None

    async def _clear_reactions(self, req: _Request, channel: str, message: str) -> tuple[int, Any]:
        self._channel_message(channel, message).reactions.clear()
        self._notify()
        return 204, None

    # -- REST handlers: interaction callback and webhooks ------------------------------------------

    async def _callback(self, req: _Request, interaction: str, token: str) -> tuple[int, Any]:
        record = self._interaction_record(interaction, token)
        late = self.callback_deadline_seconds is not None and (
            time.monotonic() - record.created_at > self.callback_deadline_seconds
        )
        if late or self._expired(record):
            raise DiscordError(404, 10062, "Unknown interaction")
        if record.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        body, uploads = await req.body()
        if not isinstance(body, dict) or "type" not in body:
            raise _form_error("type", "BASE_TYPE_REQUIRED", "This field is required")
        kind = int(body["type"])
        data = body.get("data") or {}
        allowed = _ALLOWED_CALLBACKS.get(record.type, set())
        if record.type == MODAL_SUBMIT and record.message_id is None:
            allowed = allowed - {DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
        if kind not in allowed:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {kind} is invalid here",
            )
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        message_type = 20 if record.type == APPLICATION_COMMAND else 0
        created: RecordedMessage | None = None
        updated: RecordedMessage | None = None
        if kind == CHANNEL_MESSAGE:
            created = self._create(
                record.channel_id,
                data,
                uploads,
                author_id=self.bot_user_id,
                ephemeral=ephemeral,
                interaction=record,
                message_type=message_type,
            )
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            created = self._create(
                record.channel_id,
                {},
                [],
                author_id=self.bot_user_id,
                ephemeral=ephemeral,
                interaction=record,
                message_type=message_type,
                extra_flags=LOADING,
                allow_empty=True,
            )
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            target = self.messages.get(record.message_id or 0)
            if target is None or target.deleted:
                raise _unknown_message()
            if kind == UPDATE_MESSAGE:
                self._edit(target, data, uploads)
                updated = target
            record.original = target
        elif kind == MODAL:
            for key in ("custom_id", "title", "components"):
                if not data.get(key):
                    raise _form_error(f"data.{key}", "BASE_TYPE_REQUIRED", "This field is required")
        elif kind == AUTOCOMPLETE_RESULT and len(data.get("choices") or []) > 25:
            raise _form_error(
                "data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        if created is not None:
            record.original = created
        record.responses.append({"type": kind, "data": data})
        record.response_type = kind
        record.ephemeral = ephemeral and kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE)
        record.acknowledged_at = time.monotonic()
        self._notify()
        if created is not None:
            await self._dispatch_message("MESSAGE_CREATE", created)
        if updated is not None:
            await self._dispatch_message("MESSAGE_UPDATE", updated)
        if req.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        shown = created or updated or record.original
        response: dict[str, Any] = {
            "interaction": {
                "id": str(record.id),
                "type": record.type,
                "activity_instance_id": None,
                "response_message_id": str(shown.id) if shown is not None else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(shown is not None and shown.ephemeral),
            },
            "resource": {"type": kind},
        }
        if (
            kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE)
            and shown is not None
        ):
            response["resource"]["message"] = self._message_payload(shown)
        return 200, response

    def _original_of(self, record: InteractionRecord) -> RecordedMessage:
        original = record.original
        if original is None or original.deleted:
            raise _unknown_message()
        return original

    def _followup_of(self, record: InteractionRecord, message: str) -> RecordedMessage:
        wanted = int(message)
        for candidate in [record.original, *record.followups]:
            if candidate is not None and candidate.id == wanted and not candidate.deleted:
                return candidate
        raise _unknown_message()

    async def _get_original(self, req: _Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return 200, self._message_payload(self._original_of(record))

    async def _edit_original(self, req: _Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_edit(req, self._original_of(record))

    async def _delete_original(self, req: _Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_delete(self._original_of(record))

    async def _get_followup(
        self, req: _Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return 200, self._message_payload(self._followup_of(record, message))

    async def _edit_followup(
        self, req: _Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_edit(req, self._followup_of(record, message))

    async def _delete_followup(
        self, req: _Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_delete(self._followup_of(record, message))

    async def _webhook_edit(self, req: _Request, message: RecordedMessage) -> tuple[int, Any]:
        payload, uploads = await req.body()
        if not isinstance(payload, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        self._edit(message, payload, uploads)
        self._notify()
        await self._dispatch_message("MESSAGE_UPDATE", message)
        return 200, self._message_payload(message)

    async def _webhook_delete(self, message: RecordedMessage) -> tuple[int, Any]:
        message.deleted = True
        self._notify()
        await self._dispatch_delete(message)
        return 204, None

    async def _create_followup(self, req: _Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        if record.response_type is None:
            raise DiscordError(404, 10015, "Unknown Webhook")
        payload, uploads = await req.body()
        if not isinstance(payload, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        original = record.original
        if (
            record.response_type == DEFERRED_CHANNEL_MESSAGE
            and original is not None
            and original.loading
        ):
            # The first followup after a defer replaces the "thinking…" placeholder and
            # keeps the defer's ephemerality, as on Discord.
            payload = {k: v for k, v in payload.items() if k != "flags"}
            self._edit(original, payload, uploads)
            original.edits -= 1
            original.history.pop()
            original.edited_timestamp = None
            message = original
            event = "MESSAGE_UPDATE"
        else:
            ephemeral = bool(int(payload.get("flags") or 0) & EPHEMERAL)
            message = self._create(
                record.channel_id,
                payload,
                uploads,
                author_id=self.bot_user_id,
                ephemeral=ephemeral,
                interaction=record,
                message_type=20 if record.type == APPLICATION_COMMAND else 0,
            )
            event = "MESSAGE_CREATE"
        record.followups.append(message)
        self._notify()
        await self._dispatch_message(event, message)
        if req.query.get("wait") in ("1", "true", "True"):
            return 200, self._message_payload(message)
        return 204, None


def _full_command_name(data: dict[str, Any]) -> str:
    names = [data.get("name", "")]
    options = data.get("options") or []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        names.append(options[0]["name"])
        options = options[0].get("options") or []
    return " ".join(names)


def _default_error(status: int) -> tuple[int, str]:
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
