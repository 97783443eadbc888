"""What the stand-in's Discord holds: the application, its bot user, one guild with its
members, channels and roles, and every message, upload, interaction and REST request so
far. Also the test-facing helpers that only read or set that state: adding members and
channels, looking at registered commands and messages, scheduling failures, expiring
tokens, and waiting for something to happen.
"""

# ruff: noqa: ASYNC109 -- waiting helpers take timeout= by design, as asyncio.wait_for does

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from .gateway import Gateway
from .payloads import Perm, SnowflakeFactory
from .records import FakeUser, InteractionRecord, RecordedAttachment, RecordedMessage, RequestRecord
from .rest import API_PREFIX, Failure, Hold

if TYPE_CHECKING:
    from .server import FakeDiscord


@dataclass
class Channel:
    """A channel: a guild text channel (type 0, the default) or a DM with one user (type 1)."""

    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    recipient_id: int | None = None
    #: Permission bits a member overwrite for the bot denies in this channel (0: none).
    bot_denied: int = 0

    @property
    def in_guild(self) -> bool:
        return self.type not in (1, 3)


class DiscordState:
    """The state of a :class:`~.server.FakeDiscord` and the helpers tests use to read,
    arrange and wait on it; the constructor's settings are FakeDiscord's."""

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
        #: Roles added with ``add_role``: id -> (name, permissions).
        self.extra_roles: dict[int, tuple[str, int]] = {}
        #: Those of them placed above the bot's role (``add_role(..., above_bot=True)``).
        self.roles_above_bot: set[int] = set()
        #: False: the bot lacks Manage Roles, so giving a member a role answers 403.
        self.bot_can_manage_roles = True
        #: Every role the bot gave: (user id, role id, audit log reason).
        self.role_grants: list[tuple[int, int, str | None]] = []
        self.channels: dict[int, Channel] = {
            self.channel_id: Channel(self.channel_id, "general", position=0),
            self.moderation_channel_id: Channel(
                self.moderation_channel_id, "moderation", position=1
            ),
        }
        self.messages: dict[int, RecordedMessage] = {}
        #: Every file uploaded, by attachment id (what the CDN serves).
        self.uploads: dict[int, RecordedAttachment] = {}
        #: The attachment id of each file the CDN served (a client read its bytes), in order.
        self.cdn_reads: list[int] = []
        #: HTTP statuses the CDN answers its next reads with instead of the file, in order.
        self.cdn_failures: list[int] = []
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
        self._failures: list[Failure] = []
        self.holds: list[Hold] = []
        # A DiscordState only ever exists as a FakeDiscord, whose payload builders the
        # gateway uses for READY, GUILD_CREATE and member chunks.
        self.gateway = Gateway(
            cast("FakeDiscord", self), heartbeat_interval_ms=heartbeat_interval_ms
        )
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- addresses -------------------------------------------------------------------------

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

    # -- people and places -----------------------------------------------------------------

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

    def add_role(
        self, name: str, *, permissions: int = Perm.EVERYONE, above_bot: bool = False
    ) -> int:
        """A new role in the guild (give it to a member with ``user.roles.append(id)``).

        It sits below the bot's role, as a role made in Discord's settings does, unless
        ``above_bot``: then the bot may not give it (403). Roles reach the bot in
        GUILD_CREATE, and each one below the bot moves the bot's role up a place, so a test
        in which the bot compares positions makes its roles before the bot connects.
        """
        role_id = self._snowflake()
        self.extra_roles[role_id] = (name, permissions)
        if above_bot:
            self.roles_above_bot.add(role_id)
        return role_id

    def add_channel(self, name: str, *, type: int = 0, topic: str | None = None) -> int:
        """A new text channel in the guild (present in GUILD_CREATE for later IDENTIFYs)."""
        channel = Channel(
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
        for role_id in user.roles:
            permissions |= self.extra_roles[role_id][1]
        return permissions

    # -- what tests read -------------------------------------------------------------------

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

    # -- arranging trouble -----------------------------------------------------------------

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
            Failure(
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

    def hold(
        self,
        method: str,
        path_regex: str,
        *,
        when: Callable[[Any], bool] | None = None,
        applied: bool = False,
    ) -> Hold:
        """Keep the next request matching ``method``, ``path_regex`` (as for ``fail_next``)
        and ``when(json_payload)`` waiting until ``Hold.release()``: not carried out, or
        (``applied``) carried out but not answered. Await ``hold.reached.wait()`` to act
        while the bot waits for Discord; stopping the stand-in releases every hold."""
        held = Hold(method.upper(), re.compile(path_regex), when, applied)
        self.holds.append(held)
        return held

    def release_holds(self) -> None:
        for held in self.holds:
            held.release()

    def expire_tokens(self) -> None:
        """Every interaction token issued so far is now expired (as after 15 minutes)."""
        for record in self.interactions.values():
            record.expired = True

    # -- waiting ---------------------------------------------------------------------------

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
