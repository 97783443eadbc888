"""REST routes a bot answers interactions with: the interaction callback (reply, defer,
update the component's message, open a modal, autocomplete choices), and the interaction
webhook (the original response and followups: fetch, edit, delete, create). Tokens expire,
a second callback is refused, and the first followup after a defer replaces the
"thinking…" placeholder, as on Discord.
"""

from __future__ import annotations

import time
from typing import Any

from .constants import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    MODAL_SUBMIT,
    UPDATE_MESSAGE,
)
from .messages import MessageBook
from .records import EPHEMERAL, LOADING, InteractionRecord, RecordedMessage
from .rest import DiscordError, Request, form_error, invalid_webhook_token, unknown_message


class InteractionRoutes(MessageBook):
    """Handlers for the interaction callback and the interaction webhook routes."""

    # -- interaction tokens ----------------------------------------------------------------

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
            raise invalid_webhook_token()
        return record

    def _expired(self, record: InteractionRecord) -> bool:
        return record.expired or time.monotonic() - record.created_at > self.token_lifetime_seconds

    # -- REST handlers: interaction callback and webhooks ----------------------------------

    async def _callback(self, req: Request, interaction: str, token: str) -> tuple[int, Any]:
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
            raise form_error("type", "BASE_TYPE_REQUIRED", "This field is required")
        kind = int(body["type"])
        data = body.get("data") or {}
        allowed = ALLOWED_CALLBACKS.get(record.type, set())
        if record.type == MODAL_SUBMIT and record.message_id is None:
            allowed = allowed - {DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
        if kind not in allowed:
            raise form_error(
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
                raise unknown_message()
            if kind == UPDATE_MESSAGE:
                self._edit(target, data, uploads)
                updated = target
            record.original = target
        elif kind == MODAL:
            for key in ("custom_id", "title", "components"):
                if not data.get(key):
                    raise form_error(f"data.{key}", "BASE_TYPE_REQUIRED", "This field is required")
        elif kind == AUTOCOMPLETE_RESULT and len(data.get("choices") or []) > 25:
            raise form_error(
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
            raise unknown_message()
        return original

    def _followup_of(self, record: InteractionRecord, message: str) -> RecordedMessage:
        wanted = int(message)
        for candidate in [record.original, *record.followups]:
            if candidate is not None and candidate.id == wanted and not candidate.deleted:
                return candidate
        raise unknown_message()

    async def _get_original(self, req: Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return 200, self._message_payload(self._original_of(record))

    async def _edit_original(self, req: Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_edit(req, self._original_of(record))

    async def _delete_original(self, req: Request, app: str, token: str) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_delete(self._original_of(record))

    async def _get_followup(
        self, req: Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return 200, self._message_payload(self._followup_of(record, message))

    async def _edit_followup(
        self, req: Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_edit(req, self._followup_of(record, message))

    async def _delete_followup(
        self, req: Request, app: str, token: str, message: str
    ) -> tuple[int, Any]:
        record = self._webhook_record(app, token)
        return await self._webhook_delete(self._followup_of(record, message))

    async def _webhook_edit(self, req: Request, message: RecordedMessage) -> tuple[int, Any]:
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

    async def _create_followup(self, req: Request, app: str, token: str) -> tuple[int, Any]:
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
            and not original.deleted
        ):
            # The first followup after a defer replaces the "thinking…" placeholder and
            # keeps the defer's ephemerality, as on Discord (once the placeholder is deleted,
            # a followup is a message of its own).
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
