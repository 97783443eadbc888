"""Driving the bot as a person in the Discord client would: running slash commands,
typing into an autocompleted option, pressing buttons, choosing in select menus, submitting
modals and posting messages. Each checks what the Discord client would refuse (unknown
options, disabled buttons, wrong value counts) and sends the INTERACTION_CREATE (or
MESSAGE_CREATE) the bot would get.
"""

from __future__ import annotations

import secrets
from typing import Any

from .constants import (
    ACTION_ROW,
    APPLICATION_COMMAND,
    ATTACHMENT,
    AUTOCOMPLETE,
    BOOLEAN,
    BUTTON,
    CHANNEL,
    INTEGER,
    LABEL,
    MENTIONABLE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    NUMBER,
    ROLE,
    SELECTS,
    STRING,
    STRING_SELECT,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    TEXT_INPUT,
    USER,
)
from .messages import MessageBook
from .payloads import Perm, guess_content_type
from .records import FakeUser, InteractionRecord, RecordedMessage
from .rest import Upload


class UserDrivers(MessageBook):
    """The test-facing ``slash``/``autocomplete``/``press``/``select``/``submit_modal``/
    ``user_message``, and the interaction payloads they send."""

    # -- driving the bot as a user ---------------------------------------------------------

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
        message, component = self._find_component(message_id, custom_id, SELECTS)
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

    # -- interactions, internals -----------------------------------------------------------

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
                self.channel_id, Upload(0, filename, guess_content_type(filename, None), data)
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
            "app_permissions": str(Perm.BOT & ~self.channels[record.channel_id].bot_denied),
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
