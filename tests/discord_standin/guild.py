"""The guild as discord.py sees it: the payloads of users, members, roles, channels and
the guild itself, and the READY and GUILD_CREATE dispatches a bot gets on IDENTIFY (the
gateway sends them; this builds them). Also the edits a test makes while the bot runs
(``deny_bot``, ``update_role``, ``delete_role``), dispatched as Discord would.
"""

from __future__ import annotations

import time
from typing import Any

from .gateway import GatewaySession
from .payloads import Perm, iso
from .rest import DiscordError
from .state import Channel, DiscordState


class GuildPayloads(DiscordState):
    """Builds the JSON Discord sends for the people and places of the guild."""

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
        if user is None:
            return []
        return [self.moderator_role_id] * user.manage_guild + list(user.roles)

    def _permissions_of_id(self, user_id: int) -> int:
        if user_id == self.bot_user_id:
            return Perm.BOT
        user = self.users.get(user_id)
        return self.permissions_of(user) if user is not None else Perm.EVERYONE

    def _member_payload(self, user_id: int, *, with_user: bool = True) -> dict[str, Any]:
        user = self.users.get(user_id)
        member: dict[str, Any] = {
            "roles": [str(r) for r in self._roles_of(user_id)],
            "joined_at": iso(user.joined_at if user is not None else time.time() - 86_400),
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

        # Bottom to top: @everyone, Moderator, roles below the bot, the bot's, roles above it.
        below = [r for r in self.extra_roles if r not in self.roles_above_bot]
        above = [r for r in self.extra_roles if r in self.roles_above_bot]
        bot_position = 2 + len(below)
        return [
            role(self.guild_id, "@everyone", Perm.EVERYONE, 0),
            role(
                self.moderator_role_id,
                "Moderator",
                Perm.EVERYONE | Perm.MANAGE_GUILD | Perm.MANAGE_MESSAGES,
                1,
            ),
            *(role(r, *self.extra_roles[r], 2 + n) for n, r in enumerate(below)),
            role(
                self.bot_role_id,
                self.bot_name,
                Perm.BOT,
                bot_position,
                managed=True,
                tags={"bot_id": str(self.bot_user_id)},
            ),
            *(role(r, *self.extra_roles[r], bot_position + 1 + n) for n, r in enumerate(above)),
        ]

    def _channel_payload(self, channel: Channel) -> dict[str, Any]:
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
                "permission_overwrites": self._overwrites_payload(channel),
                "parent_id": str(channel.parent_id) if channel.parent_id else None,
                "topic": channel.topic,
                "nsfw": False,
                "rate_limit_per_user": 0,
            }
        )
        return payload

    def _overwrites_payload(self, channel: Channel) -> list[dict[str, Any]]:
        if not channel.bot_denied:
            return []
        return [
            {
                "id": str(self.bot_user_id),
                "type": 1,  # a member overwrite
                "allow": "0",
                "deny": str(channel.bot_denied),
            }
        ]

    async def deny_bot(self, channel_id: int, permissions: int) -> None:
        """Deny the bot ``permissions`` (e.g. ``Perm.SEND_MESSAGES``) in a channel, as a
        member overwrite set in the channel's settings would. A connected bot gets the
        CHANNEL_UPDATE; its posts there are refused with 403 from then on."""
        channel = self.channels[channel_id]
        channel.bot_denied = permissions
        await self.gateway.dispatch("CHANNEL_UPDATE", self._channel_payload(channel), intents=1)

    async def update_role(
        self, role_id: int, *, permissions: int | None = None, above_bot: bool | None = None
    ) -> None:
        """Edit a role made with ``add_role`` as Server Settings → Roles would: new
        ``permissions``, or drag it above (or below) the bot's role. A connected bot gets a
        GUILD_ROLE_UPDATE for each role whose permissions or position changed."""
        before = {role["id"]: role for role in self._roles_payload()}
        name, old_permissions = self.extra_roles[role_id]
        self.extra_roles[role_id] = (name, old_permissions if permissions is None else permissions)
        if above_bot is True:
            self.roles_above_bot.add(role_id)
        elif above_bot is False:
            self.roles_above_bot.discard(role_id)
        await self._dispatch_role_changes(before)

    async def delete_role(self, role_id: int) -> None:
        """Delete a role made with ``add_role``: members lose it, a connected bot gets
        GUILD_ROLE_DELETE (and GUILD_ROLE_UPDATE for the roles that moved down a place)."""
        before = {role["id"]: role for role in self._roles_payload()}
        del self.extra_roles[role_id]
        self.roles_above_bot.discard(role_id)
        for user in self.users.values():
            if role_id in user.roles:
                user.roles.remove(role_id)
        await self.gateway.dispatch(
            "GUILD_ROLE_DELETE",
            {"guild_id": str(self.guild_id), "role_id": str(role_id)},
            intents=1,
        )
        await self._dispatch_role_changes(before)

    async def _dispatch_role_changes(self, before: dict[str, dict[str, Any]]) -> None:
        for role in self._roles_payload():
            if role["id"] in before and before[role["id"]] != role:
                await self.gateway.dispatch(
                    "GUILD_ROLE_UPDATE", {"guild_id": str(self.guild_id), "role": role}, intents=1
                )

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
