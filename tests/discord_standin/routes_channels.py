"""REST routes for the guild and its channels: the guild, its channels, roles and members,
a channel, the typing indicator, and channel messages (list with before/after/around,
create with replies, fetch, edit, delete) and the bot's reactions. Ephemeral messages are
invisible here, as on Discord.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from .messages import MessageBook
from .payloads import Perm
from .records import EPHEMERAL, RecordedMessage
from .rest import DiscordError, Request, form_error, unknown_message
from .state import Channel


class ChannelRoutes(MessageBook):
    """Handlers for the guild, channel, message and reaction routes."""

    # -- REST handlers: guild and channels -------------------------------------------------

    def _guild(self, guild: str) -> None:
        if int(guild) != self.guild_id:
            raise DiscordError(404, 10004, "Unknown Guild")

    def _channel(self, channel: str) -> Channel:
        found = self.channels.get(int(channel))
        if found is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        return found

    async def _get_guild(self, req: Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        payload = self._guild_payload()
        payload["approximate_member_count"] = len(self.users) + 1
        return 200, payload

    async def _get_guild_channels(self, req: Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        return 200, [self._channel_payload(c) for c in self.channels.values() if c.in_guild]

    async def _get_roles(self, req: Request, guild: str) -> tuple[int, Any]:
        self._guild(guild)
        return 200, self._roles_payload()

    async def _get_member(self, req: Request, guild: str, user: str) -> tuple[int, Any]:
        self._guild(guild)
        if int(user) not in self.users and int(user) != self.bot_user_id:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, self._member_payload(int(user))

    async def _add_member_role(
        self, req: Request, guild: str, user: str, role: str
    ) -> tuple[int, Any]:
        """Give a member a role: 403 without Manage Roles (``bot_can_manage_roles``) or for a
        role above the bot's, as on Discord; giving a role the member has already is a no-op
        that still answers 204."""
        self._guild(guild)
        member = self.users.get(int(user))
        if member is None:
            raise DiscordError(404, 10007, "Unknown Member")
        if int(role) not in self.extra_roles:
            raise DiscordError(404, 10011, "Unknown Role")
        if not self.bot_can_manage_roles or int(role) in self.roles_above_bot:
            raise DiscordError(403, 50013, "Missing Permissions")
        if int(role) not in member.roles:
            member.roles.append(int(role))
        reason = req.raw.headers.get("X-Audit-Log-Reason")
        self.role_grants.append((member.id, int(role), unquote(reason) if reason else None))
        return 204, None

    async def _get_channel(self, req: Request, channel: str) -> tuple[int, Any]:
        return 200, self._channel_payload(self._channel(channel))

    async def _typing(self, req: Request, channel: str) -> tuple[int, Any]:
        self._channel(channel)
        return 204, None

    def _channel_message(self, channel: str, message: str) -> RecordedMessage:
        self._channel(channel)
        found = self.messages.get(int(message))
        # Ephemeral messages are invisible to channel routes, as on Discord.
        if found is None or found.deleted or found.ephemeral or found.channel_id != int(channel):
            raise unknown_message()
        return found

    async def _list_messages(self, req: Request, channel: str) -> tuple[int, Any]:
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

    async def _create_message(self, req: Request, channel: str) -> tuple[int, Any]:
        target = self._channel(channel)
        payload, uploads = await req.body()
        if not isinstance(payload, dict):
            raise DiscordError(400, 50035, "Invalid Form Body")
        if target.bot_denied & Perm.VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if target.bot_denied & Perm.SEND_MESSAGES or (
            uploads and target.bot_denied & Perm.ATTACH_FILES
        ):
            raise DiscordError(403, 50013, "Missing Permissions")
        if int(payload.get("flags") or 0) & EPHEMERAL:
            raise form_error(
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
                raise form_error(
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

    async def _get_message(self, req: Request, channel: str, message: str) -> tuple[int, Any]:
        return 200, self._message_payload(self._channel_message(channel, message))

    async def _edit_message(self, req: Request, channel: str, message: str) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        if found.author_id != self.bot_user_id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        payload, uploads = await req.body()
        self._edit(found, payload, uploads)
        self._notify()
        await self._dispatch_message("MESSAGE_UPDATE", found)
        return 200, self._message_payload(found)

    async def _delete_message(self, req: Request, channel: str, message: str) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        found.deleted = True
        self._notify()
        await self._dispatch_delete(found)
        return 204, None

    async def _add_reaction(
        self, req: Request, channel: str, message: str, emoji: str
    ) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        users = found.reactions.setdefault(unquote(emoji), [])
        if self.bot_user_id not in users:
            users.append(self.bot_user_id)
        self._notify()
        return 204, None

    async def _remove_reaction(
        self, req: Request, channel: str, message: str, emoji: str
    ) -> tuple[int, Any]:
        found = self._channel_message(channel, message)
        users = found.reactions.get(unquote(emoji), [])
        if self.bot_user_id in users:
            users.remove(self.bot_user_id)
        self._notify()
        return 204, None

    async def _clear_reactions(self, req: Request, channel: str, message: str) -> tuple[int, Any]:
        self._channel_message(channel, message).reactions.clear()
        self._notify()
        return 204, None
