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

This module holds the server itself (lifecycle, the route table, the REST dispatcher and
the CDN). ``FakeDiscord`` is composed of mixins, one per part of Discord, each building on
the ones it needs:

* :mod:`.state` (``DiscordState``): what Discord holds, and the test helpers that read,
  arrange and wait on it;
* :mod:`.guild` (``GuildPayloads``): user, member, role, channel and guild payloads, and
  READY / GUILD_CREATE;
* :mod:`.messages` (``MessageBook``): recording, validating and rendering messages, and
  their gateway events;
* :mod:`.drivers` (``UserDrivers``): ``slash()``, ``press()``, …, what a person does in the
  Discord client;
* :mod:`.routes_application`, :mod:`.routes_channels`, :mod:`.routes_interactions`: the REST
  handlers.

Beside them: :mod:`.rest` (error responses, request parsing, injected failures, held
requests),
:mod:`.constants` (Discord's numbers), :mod:`.gateway` (the websocket), :mod:`.records`
(what tests read) and :mod:`.payloads` (snowflakes, permissions, timestamps).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
import socket
import time
import traceback
from typing import Self

from aiohttp import web

from .drivers import UserDrivers
from .records import RequestRecord
from .rest import (
    API_PREFIX,
    DiscordError,
    Handler,
    Hold,
    Request,
    injected_failure,
    ratelimit_headers,
)
from .routes_application import ApplicationRoutes
from .routes_channels import ChannelRoutes
from .routes_interactions import InteractionRoutes

__all__ = ["DiscordError", "FakeDiscord"]

_log = logging.getLogger(__name__)


class FakeDiscord(UserDrivers, ApplicationRoutes, ChannelRoutes, InteractionRoutes):
    """A whole Discord, as far as one bot in one guild can see it.

    The guild has ``#general`` (``channel_id``) and ``#moderation``
    (``moderation_channel_id``); ``owner`` (alice) is the application's owner and an
    ordinary member, ``guild_owner`` owns the guild. Tokens are checked: REST calls must
    carry ``Authorization: Bot <bot_token>`` (interaction webhooks and callbacks carry
    their interaction token in the path instead, as on Discord).

    The constructor's settings and the state are :class:`~.state.DiscordState`'s; each
    mixin adds one part of Discord (see the module docstring).
    """

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
        self.release_holds()
        await self.gateway.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def disconnect_clients(self, *, code: int = 4000, resumable: bool = True) -> int:
        """Close every gateway websocket from Discord's side, as a gateway restart would.

        discord.py reconnects and RESUMEs (``resumable=True``) or, when the session was
        dropped, gets INVALID_SESSION and IDENTIFYs afresh. Returns how many were closed.
        """
        count = await self.gateway.disconnect(code=code, resumable=resumable)
        self._notify()
        return count

    # -- routing ---------------------------------------------------------------------------

    @functools.cached_property
    def _routes(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        """The REST API: (method, path pattern, handler, whether the bot token is needed).

        The first route whose method and path both match handles a request; the handlers
        are the ``routes_*`` mixins' methods. Built on first use.
        """
        snowflake = r"(?P<{}>\d+)"
        token = r"(?P<token>[^/]+)"
        app = f"/applications/{snowflake.format('app')}"
        guild = f"/guilds/{snowflake.format('guild')}"
        channel = f"/channels/{snowflake.format('channel')}"
        message = f"{channel}/messages/{snowflake.format('message')}"
        hook = f"/webhooks/{snowflake.format('app')}/{token}"
        one_command = snowflake.format("command")
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", f"/users/{snowflake.format('user')}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", f"{app}{guild}/commands/permissions", self._get_command_permissions, True),
            *(
                route
                for commands in (f"{app}/commands", f"{app}{guild}/commands")  # global, server
                for route in (
                    ("GET", commands, self._get_commands, True),
                    ("PUT", commands, self._put_commands, True),
                    ("POST", commands, self._post_command, True),
                    ("GET", f"{commands}/{one_command}", self._get_command, True),
                    ("PATCH", f"{commands}/{one_command}", self._patch_command, True),
                    ("DELETE", f"{commands}/{one_command}", self._delete_command, True),
                )
            ),
            ("GET", guild, self._get_guild, True),
            ("GET", f"{guild}/channels", self._get_guild_channels, True),
            ("GET", f"{guild}/roles", self._get_roles, True),
            ("GET", f"{guild}/members/{snowflake.format('user')}", self._get_member, True),
            (
                "PUT",
                f"{guild}/members/{snowflake.format('user')}/roles/{snowflake.format('role')}",
                self._add_member_role,
                True,
            ),
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
        return [(m, re.compile(p + "$"), h, auth) for m, p, h, auth in table]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        req = Request(self, request, path)
        headers = {"Via": "1.1 google"}
        try:
            failure = injected_failure(self._failures, method, path)
            if failure is not None:
                raise failure
            handler, groups, auth, template = self._match(method, path)
            headers = ratelimit_headers(f"{method} {template}")
            if auth and request.headers.get("Authorization") != f"Bot {self.bot_token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            held = await self._held(method, path, req)
            if held is not None and not held.applied:
                await held.wait()
                raise DiscordError(503, 0, "503: Service Unavailable")
            status, body = await handler(req, **groups)
            if held is not None:
                await held.wait()
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

    async def _held(self, method: str, path: str, req: Request) -> Hold | None:
        for held in self.holds:
            if await held.matches(method, path, req):
                return held
        return None

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
        if self.cdn_failures:
            return web.Response(status=self.cdn_failures.pop(0))
        attachment = self.uploads.get(int(request.match_info["attachment"]))
        if attachment is not None:
            self.cdn_reads.append(attachment.id)
            return web.Response(
                body=attachment.data,
                headers={"Content-Type": attachment.content_type or "application/octet-stream"},
            )
        return web.Response(status=404)
