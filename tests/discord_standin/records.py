"""What the stand-in remembers: users, messages, attachments, interactions and REST requests.

These are plain records that tests read. They stand in for what a person would see in the
Discord client (a message with its buttons, an ephemeral reply, a "thinking…" placeholder)
and for what Discord's servers saw (every REST request and the status it was answered with).
"""

# ruff: noqa: ASYNC109 -- waiting helpers take timeout= by design, as asyncio.wait_for does

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import DiscordState

#: Message flags Discord uses (only the ones the stand-in sets or reads).
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2
IS_COMPONENTS_V2 = 1 << 15


@dataclass(eq=False)
class FakeUser:
    """A Discord user who is also a member of the stand-in's guild.

    ``manage_guild`` gives the member a "Moderator" role carrying the Manage Server permission;
    ``administrator`` gives every permission (as a server owner has). ``roles`` are further
    roles made with ``FakeDiscord.add_role``. ``joined_at`` (Unix time) is when they joined the
    guild; by default 30 days before the stand-in was built, so age rules are met.
    """

    id: int
    name: str
    manage_guild: bool = False
    administrator: bool = False
    bot: bool = False
    global_name: str | None = None
    nick: str | None = None
    roles: list[int] = field(default_factory=list)
    joined_at: float = field(default_factory=lambda: time.time() - 30 * 86_400)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class RecordedAttachment:
    """A file uploaded with a message (multipart ``files[n]``), as Discord's CDN would keep it.

    ``content_type`` is what the upload declared, or, when discord.py sent its usual
    ``application/octet-stream``, the type guessed from the file name (as Discord does).
    """

    filename: str
    content_type: str | None
    data: bytes
    id: int
    description: str | None = None
    width: int | None = None
    height: int | None = None
    url: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


def _walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a tree of components: action rows, sections, containers, labels."""
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield from _walk_components([child])


@dataclass(eq=False)
class RecordedMessage:
    """A message as it exists on the stand-in's Discord: in a channel, or ephemeral to one user.

    ``components``, ``embeds`` and ``content`` are kept exactly as the bot sent them (so an
    embed image still reads ``attachment://grid.png``); what the bot gets back has them
    resolved the way Discord resolves them. ``history`` holds a snapshot of every previous
    version (``content``, ``embeds``, ``components``, ``attachments`` as file names,
    ``flags``), oldest first; ``edits`` counts the PATCHes (and UPDATE_MESSAGE callbacks)
    that produced them. The first followup after a defer fills in the "thinking…"
    placeholder without counting as an edit, as on Discord.
    """

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[RecordedAttachment] = field(default_factory=list)
    flags: int = 0
    ephemeral: bool = False
    interaction_id: int | None = None
    message_reference: dict[str, Any] | None = None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    created_at: float = field(default_factory=time.monotonic)
    #: Discord message type: 0 default, 19 reply, 20 slash-command response.
    type: int = 0
    #: Set on interaction responses and followups: they are "sent by" the application's webhook.
    webhook_id: int | None = None
    #: Unix time of creation and of the last edit (for the payload's timestamps).
    timestamp: float = field(default_factory=time.time)
    edited_timestamp: float | None = None
    #: Emoji -> user ids who reacted, for the reaction routes.
    reactions: dict[str, list[int]] = field(default_factory=dict)
    nonce: str | int | None = None
    tts: bool = False
    #: The ``allowed_mentions`` the message was shown with (None: the payload had none).
    allowed_mentions: dict[str, Any] | None = None
    #: Users the message notified when it appeared (by ``allowed_mentions``, Discord's
    #: rules); an edit notifies nobody, except filling in a "thinking…" placeholder.
    pinged: list[int] = field(default_factory=list)

    @property
    def loading(self) -> bool:
        """Whether this is still a deferred response's "is thinking…" placeholder."""
        return bool(self.flags & LOADING)

    @property
    def custom_ids(self) -> list[str]:
        """Every component's ``custom_id`` (buttons, selects, …), depth first, in order."""
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]

    @property
    def button_labels(self) -> list[str]:
        """Every button's label, or its emoji's name when it has no label."""
        labels: list[str] = []
        for component in _walk_components(self.components):
            if component.get("type") != 2:
                continue
            label = component.get("label")
            if not label and isinstance(component.get("emoji"), dict):
                label = component["emoji"].get("name")
            labels.append(label or "")
        return labels

    def component(self, custom_id: str) -> dict[str, Any] | None:
        """The component with this ``custom_id``, as sent, or None."""
        for component in _walk_components(self.components):
            if component.get("custom_id") == custom_id:
                return component
        return None

    @property
    def attachment_names(self) -> list[str]:
        return [a.filename for a in self.attachments]

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": list(self.embeds),
            "components": list(self.components),
            "attachments": self.attachment_names,
            "flags": self.flags,
        }


@dataclass(eq=False)
class InteractionRecord:
    """One interaction a user started (slash command, button, select, modal submit,
    autocomplete), with everything the bot answered to it.

    ``responses`` holds each callback body the stand-in accepted (``{"type", "data"}``; at
    most one, since a second callback is refused with 40060 and only shows in
    ``fake.requests``). ``original`` is the message
    ``/webhooks/{app}/{token}/messages/@original`` points at: the reply (type 4), the
    "thinking…" placeholder and later the edited result (type 5), or, for component
    interactions answered with type 6 or 7, the message the component is on.
    """

    id: int
    token: str
    type: int
    user: FakeUser
    data: dict[str, Any]
    channel_id: int
    responses: list[dict[str, Any]] = field(default_factory=list)
    response_type: int | None = None
    ephemeral: bool = False
    original: RecordedMessage | None = None
    followups: list[RecordedMessage] = field(default_factory=list)
    acknowledged_at: float | None = None
    created_at: float = field(default_factory=time.monotonic)
    #: For component and modal-submit interactions: the message the component was on.
    message_id: int | None = None
    #: ``expire_tokens()`` was called after this interaction was created.
    expired: bool = False
    _fake: DiscordState | None = field(default=None, repr=False)

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened in answer (callback type 9), as sent, or None."""
        for response in reversed(self.responses):
            if response.get("type") == 9:
                modal: dict[str, Any] | None = response.get("data")
                return modal
        return None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        """The autocomplete choices the bot answered with (callback type 8), or None."""
        for response in reversed(self.responses):
            if response.get("type") == 8:
                choices: list[dict[str, Any]] = (response.get("data") or {}).get("choices", [])
                return choices
        return None

    async def _wait(self, check: Callable[[], Any], what: str, timeout: float) -> Any:
        assert self._fake is not None, "interaction record is not attached to a FakeDiscord"
        return await self._fake._wait_until(check, timeout, f"interaction {self.id}: {what}")

    async def wait_acknowledged(self, timeout: float = 5) -> InteractionRecord:
        """Until the bot has posted a callback for this interaction."""
        await self._wait(lambda: self.acknowledged_at is not None, "acknowledged", timeout)
        return self

    async def wait_original(
        self,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout: float = 10,
    ) -> RecordedMessage:
        """Until the original response exists (and ``predicate(original)`` holds).

        After a defer the original exists at once, as the "thinking…" placeholder; wait with
        ``lambda m: not m.loading`` for the bot's real answer.
        """

        def check() -> RecordedMessage | None:
            original = self.original
            if original is None:
                return None
            if predicate is not None and not predicate(original):
                return None
            return original

        result: RecordedMessage = await self._wait(check, "original response", timeout)
        return result

    async def wait_followup(
        self,
        predicate: Callable[[RecordedMessage], bool] | None = None,
        timeout: float = 10,
    ) -> RecordedMessage:
        """Until a followup exists (the first one for which ``predicate`` holds, if given)."""

        def check() -> RecordedMessage | None:
            for message in self.followups:
                if predicate is None or predicate(message):
                    return message
            return None

        result: RecordedMessage = await self._wait(check, "followup", timeout)
        return result


@dataclass(frozen=True)
class RequestRecord:
    """One REST request the stand-in answered: path relative to ``api_base``, no query."""

    method: str
    path: str
    status: int
    at: float
    query: dict[str, str] = field(default_factory=dict)
