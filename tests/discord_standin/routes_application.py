"""REST routes for the session and the application: gateway discovery (``/gateway``,
``/gateway/bot``), the bot's own user and other users, opening DM channels, the application
itself, and application commands (global and guild: list, bulk overwrite, create, fetch,
edit, delete), with Discord's validation of command names, descriptions and options.
"""

from __future__ import annotations

import copy
from typing import Any

from .constants import COMMAND_NAME, SUB_COMMAND, SUB_COMMAND_GROUP
from .guild import GuildPayloads
from .rest import DiscordError, Request, form_error
from .state import Channel


class ApplicationRoutes(GuildPayloads):
    """Handlers for the gateway, user, DM-channel, application and command routes."""

    # -- REST handlers: session, users, application ----------------------------------------

    async def _get_gateway(self, req: Request) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url}

    async def _get_gateway_bot(self, req: Request) -> tuple[int, Any]:
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

    async def _get_me(self, req: Request) -> tuple[int, Any]:
        user = self._user_payload(self.bot_user_id)
        user.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return 200, user

    async def _get_user(self, req: Request, user: str) -> tuple[int, Any]:
        return 200, self._user_payload(int(user))

    async def _create_dm(self, req: Request) -> tuple[int, Any]:
        body = await req.json()
        recipient = int(body.get("recipient_id") or 0)
        if recipient not in self.users:
            raise DiscordError(400, 50007, "Cannot send messages to this user")
        channel_id = self.dm_channel_id(recipient)
        if channel_id is None:
            channel_id = self._snowflake()
            self.channels[channel_id] = Channel(channel_id, "", type=1, recipient_id=recipient)
        return 200, self._channel_payload(self.channels[channel_id])

    async def _get_application(self, req: Request) -> tuple[int, Any]:
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

    # -- REST handlers: application commands -----------------------------------------------

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
            or (kind == 1 and not COMMAND_NAME.match(name))
            or name != name.lower()
        ):
            raise form_error(
                f"{where}.name",
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r}",
            )
        if kind == 1:
            self._validate_options(command, where)

    def _validate_options(self, node: dict[str, Any], where: str) -> None:
        description = node.get("description") or ""
        if not 1 <= len(description) <= 100:
            raise form_error(
                f"{where}.description",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            )
        options = node.get("options") or []
        if len(options) > 25:
            raise form_error(
                f"{where}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
            )
        names = [o.get("name") for o in options]
        if len(set(names)) != len(names):
            raise form_error(
                f"{where}.options",
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        seen_optional = False
        for i, option in enumerate(options):
            here = f"{where}.options.{i}"
            if (
                not COMMAND_NAME.match(str(option.get("name")))
                or option["name"] != option["name"].lower()
            ):
                raise form_error(
                    f"{here}.name", "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid"
                )
            if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
                self._validate_options(option, here)
                continue
            description = option.get("description") or ""
            if not 1 <= len(description) <= 100:
                raise form_error(
                    f"{here}.description",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            if option.get("required"):
                if seen_optional:
                    raise form_error(
                        f"{here}.required",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
            else:
                seen_optional = True
            if len(option.get("choices") or []) > 25:
                raise form_error(
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
        self, req: Request, app: str, guild: str | None = None
    ) -> tuple[int, Any]:
        return 200, self.registered_commands(self._scope(app, guild))

    async def _put_commands(
        self, req: Request, app: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        body, _ = await req.body()
        if not isinstance(body, list):
            raise DiscordError(400, 50035, "Invalid Form Body")
        if len(body) > 100:
            raise form_error("_", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        for i, command in enumerate(body):
            self._validate_command(command, str(i))
        keys = [(c["name"], c.get("type", 1)) for c in body]
        if len(set(keys)) != len(keys):
            raise form_error(
                "_",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        self._commands[scope] = [self._store_command(scope, c) for c in body]
        self._sent_commands[scope] = copy.deepcopy(body)
        self.command_puts += 1
        return 200, self.registered_commands(scope)

    async def _post_command(
        self, req: Request, app: str, guild: str | None = None
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
        self, req: Request, app: str, command: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        return 200, copy.deepcopy(self._commands[scope][self._command_index(scope, command)])

    async def _patch_command(
        self, req: Request, app: str, command: str, guild: str | None = None
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
        self, req: Request, app: str, command: str, guild: str | None = None
    ) -> tuple[int, Any]:
        scope = self._scope(app, guild)
        index = self._command_index(scope, command)
        del self._commands[scope][index]
        del self._sent_commands[scope][index]
        return 204, None

    async def _get_command_permissions(self, req: Request, app: str, guild: str) -> tuple[int, Any]:
        self._scope(app, guild)
        return 200, []
