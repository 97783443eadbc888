"""Messages as Discord keeps them: recording what a bot creates or edits (with Discord's
checks on length, embeds, components and attachments), storing uploads for the CDN, the
message payloads REST answers and gateway events carry (embeds with ``attachment://`` URLs
resolved, interaction metadata, replies), and the MESSAGE_CREATE / MESSAGE_UPDATE /
MESSAGE_DELETE dispatches, filtered by intent as Discord filters them.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from .constants import (
    ACTION_ROW,
    APPLICATION_COMMAND,
    BUTTON,
    EDITABLE_FLAGS,
    MENTION,
    SELECTS,
    SENDABLE_FLAGS,
    STRING_SELECT,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
)
from .gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, GatewaySession
from .guild import GuildPayloads
from .payloads import image_size, iso
from .records import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    InteractionRecord,
    RecordedAttachment,
    RecordedMessage,
    _walk_components,
)
from .rest import DiscordError, Upload, form_error


class MessageBook(GuildPayloads):
    """Creates, edits and renders messages, and tells the gateway about them."""

    # -- payloads --------------------------------------------------------------------------

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
        mentioned = [int(m) for m in MENTION.findall(message.content)]
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

    # -- recording -------------------------------------------------------------------------

    def _store_upload(
        self, channel_id: int, upload: Upload, description: str | None = None
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
        uploads: list[Upload],
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
            raise form_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
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
            raise form_error(
                "content" if content else "embeds",
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used with the IS_COMPONENTS_V2 flag.",
            )
        if len(content) > 2000:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if not allow_empty and not (content or embeds or components or attachments):
            raise DiscordError(400, 50006, "Cannot send an empty message")
        if len(embeds) > 10:
            raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        limits = {"title": 256, "description": 4096}
        for i, embed in enumerate(embeds):
            for key, limit in limits.items():
                text = embed.get(key) or ""
                total += len(text)
                if len(text) > limit:
                    raise form_error(
                        f"embeds.{i}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
            fields = embed.get("fields") or []
            if len(fields) > 25:
                raise form_error(
                    f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length."
                )
            for j, field in enumerate(fields):
                for key, limit in (("name", 256), ("value", 1024)):
                    text = str(field.get(key) or "")
                    total += len(text)
                    if not text or len(text) > limit:
                        raise form_error(
                            f"embeds.{i}.fields.{j}.{key}",
                            "BASE_TYPE_BAD_LENGTH",
                            f"Must be between 1 and {limit} in length.",
                        )
            footer = (embed.get("footer") or {}).get("text") or ""
            author = (embed.get("author") or {}).get("name") or ""
            total += len(footer) + len(author)
            if len(footer) > 2048 or len(author) > 256:
                raise form_error(
                    f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "Embed footer or author is too long."
                )
        if total > 6000:
            raise form_error(
                "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        self._validate_components(components, v2)

    def _validate_components(self, components: list[dict[str, Any]], v2: bool) -> None:
        if not v2:
            if len(components) > 5:
                raise form_error(
                    "components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length."
                )
            for i, row in enumerate(components):
                if row.get("type") != ACTION_ROW:
                    raise form_error(
                        f"components.{i}",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "Top-level components must be action rows without IS_COMPONENTS_V2.",
                    )
        elif sum(1 for _ in _walk_components(components)) > 40:
            raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer in total.")
        seen: set[str] = set()
        for component in _walk_components(components):
            kind = component.get("type")
            if kind == ACTION_ROW:
                children = component.get("components") or []
                selects = [c for c in children if c.get("type") in SELECTS]
                if not children or len(children) > 5 or (selects and len(children) > 1):
                    raise form_error(
                        "components",
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "An action row holds 1-5 buttons or one select.",
                    )
            custom_id = component.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= 100:
                    raise form_error(
                        "components",
                        "BASE_TYPE_BAD_LENGTH",
                        "custom_id must be between 1 and 100 in length.",
                    )
                if custom_id in seen:
                    raise form_error(
                        "components",
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    )
                seen.add(custom_id)
            if kind == BUTTON:
                style = component.get("style")
                if style == 5 and not component.get("url"):
                    raise form_error(
                        "components", "BUTTON_COMPONENT_URL_REQUIRED", "A link button needs a url."
                    )
                if style not in (5, 6) and custom_id is None:
                    raise form_error(
                        "components",
                        "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                        "A button needs a custom_id.",
                    )
                if len(component.get("label") or "") > 80:
                    raise form_error(
                        "components",
                        "BASE_TYPE_MAX_LENGTH",
                        "Button labels must be 80 or fewer in length.",
                    )
            if kind == STRING_SELECT:
                options = component.get("options") or []
                if not 1 <= len(options) <= 25:
                    raise form_error(
                        "components", "BASE_TYPE_BAD_LENGTH", "A select needs 1 to 25 options."
                    )

    def _create(
        self,
        channel_id: int,
        payload: dict[str, Any],
        uploads: list[Upload],
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
        flags = (int(payload.get("flags") or 0) & SENDABLE_FLAGS) | extra_flags
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
        if not message.loading:
            self._notify_mentioned(message, payload)
        self.messages[message.id] = message
        return message

    def _notify_mentioned(self, message: RecordedMessage, payload: dict[str, Any]) -> None:
        """Record whom a message notifies as it appears: without ``allowed_mentions``, every
        user mentioned in its content (and the author of the message it replies to); with
        it, only those its ``parse``, ``users`` and ``replied_user`` allow."""
        allowed = payload.get("allowed_mentions")
        message.allowed_mentions = copy.deepcopy(allowed) if isinstance(allowed, dict) else None
        mentioned = [int(uid) for uid in dict.fromkeys(MENTION.findall(message.content))]
        if message.allowed_mentions is None:
            pinged, replied = mentioned, True
        else:
            parse = message.allowed_mentions.get("parse") or []
            listed = {int(uid) for uid in message.allowed_mentions.get("users") or []}
            pinged = [uid for uid in mentioned if "users" in parse or uid in listed]
            replied = bool(message.allowed_mentions.get("replied_user"))
        reference = message.message_reference or {}
        referenced = self.messages.get(int(reference.get("message_id") or 0))
        if replied and referenced is not None and referenced.author_id not in pinged:
            pinged.append(referenced.author_id)
        message.pinged = pinged

    def _edit(
        self, message: RecordedMessage, payload: dict[str, Any], uploads: list[Upload]
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
            flags = (flags & ~EDITABLE_FLAGS) | (int(payload["flags"]) & EDITABLE_FLAGS)
        attachments = self._new_attachments(
            message.channel_id, payload, uploads, message.attachments
        )
        self._validate(content, embeds, components, attachments, flags)
        was_loading = message.loading
        message.history.append(message.snapshot())
        message.content = content
        message.embeds = embeds
        message.components = components
        message.flags = flags
        message.attachments = attachments
        message.edits += 1
        message.edited_timestamp = time.time()
        if was_loading:  # the deferred answer appears now, and notifies as a new one would
            self._notify_mentioned(message, payload)

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
                or str(self.bot_user_id) in MENTION.findall(message.content)
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


def _full_command_name(data: dict[str, Any]) -> str:
    names = [data.get("name", "")]
    options = data.get("options") or []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        names.append(options[0]["name"])
        options = options[0].get("options") or []
    return " ".join(names)
