"""The buttons under a job's message.

Every button is an :class:`AtelierButton`: a ``DynamicItem`` whose custom_id carries only
ids, ``atelier:<action>:<id>:<index>``, so a button on a message posted before a restart
still works. Everything else is looked up in the database when it is pressed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import discord

from cogs.errors import AnswersErrors
from cogs.handlers import handling_cog
from inference.rework import PanDirection


class Action(StrEnum):
    UPSCALE_PICK = "u"  # U1–U4: upscale image n of a grid
    VARY_PICK = "v"  # V1–V4: variations of image n, at the presser's preferred strength
    REROLL = "reroll"  # 🔄
    CANCEL = "cancel"  # ❌ while queued or running
    VARY_SUBTLE = "subtle"  # under an upscale
    VARY_STRONG = "strong"
    # Upscale 2× again: no longer offered (Upscale (Subtle)/(Creative) replaced it), still
    # answered, for the buttons on messages posted before.
    UPSCALE = "upscale"
    UPSCALE_SUBTLE = "upsubtle"
    UPSCALE_CREATIVE = "upcreative"
    ZOOM_OUT_2 = "zoom2"  # Zoom Out 2×
    ZOOM_OUT_1_5 = "zoom15"  # Zoom Out 1.5×
    CUSTOM_ZOOM = "zoomc"  # a form: the prompt, --zoom and/or --ar
    PAN_LEFT = "panleft"
    PAN_RIGHT = "panright"
    PAN_UP = "panup"
    PAN_DOWN = "pandown"
    SQUARE = "square"  # Make Square
    VARY_REGION = "region"  # a link to the web editor
    FAVORITE = "fav"
    INFO = "info"  # Web/Info
    APPEAL = "appeal"  # on a blocked prompt; the id is the blocked prompt's


#: An action is a lowercase word, digits allowed after its first letter (``zoom15``).
_CUSTOM_ID = re.compile(
    r"atelier:(?P<action>[a-z][a-z0-9]*):(?P<id>[1-9]\d{0,18}):(?P<index>[0-3])"
)

#: The pan arrows, in Midjourney's order.
PAN_ARROWS = {
    Action.PAN_LEFT: "⬅️",
    Action.PAN_RIGHT: "➡️",
    Action.PAN_UP: "⬆️",
    Action.PAN_DOWN: "⬇️",
}
PAN_DIRECTIONS = {
    Action.PAN_LEFT: PanDirection.LEFT,
    Action.PAN_RIGHT: PanDirection.RIGHT,
    Action.PAN_UP: PanDirection.UP,
    Action.PAN_DOWN: PanDirection.DOWN,
}


@dataclass(frozen=True)
class Press:
    """What a button names: an action on job (or blocked prompt) ``target_id``, image ``index``."""

    action: Action
    target_id: int
    index: int


def custom_id(action: Action, target_id: int, index: int = 0) -> str:
    return f"atelier:{action.value}:{target_id}:{index}"


def parse_custom_id(text: str) -> Press | None:
    """The press a custom_id stands for; None if it is malformed or names no action."""
    match = _CUSTOM_ID.fullmatch(text)
    if match is None:
        return None
    try:
        action = Action(match["action"])
    except ValueError:
        return None
    return Press(action, int(match["id"]), int(match["index"]))


class PressHandler(Protocol):
    async def on_press(
        self, interaction: discord.Interaction[Any], press: Press | None
    ) -> None: ...


#: The cog that handles presses, found by name on the bot (cogs do not import each other).
HANDLER_COG = "Imagine"


class AtelierButton(
    AnswersErrors, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"atelier:.*"
):
    """Any button whose custom_id starts with ``atelier:``, malformed ones included: those
    get a polite ephemeral error instead of Discord's "This interaction failed"."""

    def __init__(
        self,
        custom_id: str,
        *,
        label: str | None = None,
        emoji: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(custom_id=custom_id, label=label, emoji=emoji, style=style, row=row)
        )
        self.press = parse_custom_id(custom_id)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AtelierButton:
        return cls(match.string)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        handler: PressHandler | None = await handling_cog(interaction, HANDLER_COG)
        if handler is not None:
            await handler.on_press(interaction, self.press)


def _button(
    action: Action,
    target_id: int,
    index: int = 0,
    *,
    label: str | None = None,
    emoji: str | None = None,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    row: int | None = None,
) -> AtelierButton:
    return AtelierButton(
        custom_id(action, target_id, index), label=label, emoji=emoji, style=style, row=row
    )


def grid_view(job_id: int) -> discord.ui.View:
    """U1 U2 U3 U4 🔄 / V1 V2 V3 V4."""
    view = discord.ui.View(timeout=None)
    for index in range(4):
        view.add_item(_button(Action.UPSCALE_PICK, job_id, index, label=f"U{index + 1}", row=0))
    view.add_item(_button(Action.REROLL, job_id, emoji="🔄", row=0))
    for index in range(4):
        view.add_item(_button(Action.VARY_PICK, job_id, index, label=f"V{index + 1}", row=1))
    return view


@dataclass(frozen=True)
class Reworks:
    """Which of the buttons that rework an upscaled image it gets: Upscale (Subtle) and
    (Creative) while one more 2× stays within the largest side, Make Square for a
    non-square image, and each pan arrow whose canvas stays within the limits."""

    upscale: bool = True
    square: bool = False
    pans: Collection[Action] = ()


def upscale_view(
    job_id: int,
    reworks: Reworks,
    *,
    page: str | None = None,
    region: bool = False,
    extra: Sequence[discord.ui.Item[Any]] = (),
) -> discord.ui.View:
    """Under an upscaled image, Midjourney's rows:

    1. Vary (Subtle), Vary (Strong), Vary (Region) (where the web editor is offered:
       ``region``), Upscale
       (Subtle), Upscale (Creative);
    2. Zoom Out 2×, Zoom Out 1.5×, Custom Zoom, Make Square;
    3. ⬅️ ➡️ ⬆️ ⬇️;
    4. ❤ Favorite, 🌐 and then ``extra``, what other features add (Submit to contest), which
       go on to the fifth row.

    At most 15 of Discord's 25 buttons in 5 rows are Atelier's own, so 8 are left for
    ``extra``. 🌐 is a link to the job's ``page`` on the web studio, or without one
    Web/Info (the details in Discord). A link button has no custom_id: Discord opens it
    without asking the bot, so it works after a restart like every other button."""
    view = discord.ui.View(timeout=None)
    view.add_item(_button(Action.VARY_SUBTLE, job_id, label="Vary (Subtle)", emoji="🪄", row=0))
    view.add_item(_button(Action.VARY_STRONG, job_id, label="Vary (Strong)", emoji="🪄", row=0))
    if region:
        view.add_item(_button(Action.VARY_REGION, job_id, label="Vary (Region)", emoji="🖌️", row=0))
    if reworks.upscale:
        for action, label in (
            (Action.UPSCALE_SUBTLE, "Upscale (Subtle)"),
            (Action.UPSCALE_CREATIVE, "Upscale (Creative)"),
        ):
            view.add_item(_button(action, job_id, label=label, emoji="✨", row=0))
    for action, label in (
        (Action.ZOOM_OUT_2, "Zoom Out 2×"),
        (Action.ZOOM_OUT_1_5, "Zoom Out 1.5×"),
        (Action.CUSTOM_ZOOM, "Custom Zoom"),
    ):
        view.add_item(_button(action, job_id, label=label, emoji="🔍", row=1))
    if reworks.square:
        view.add_item(_button(Action.SQUARE, job_id, label="Make Square", emoji="↔️", row=1))
    for action, arrow in PAN_ARROWS.items():
        if action in reworks.pans:
            view.add_item(_button(action, job_id, emoji=arrow, row=2))
    view.add_item(_button(Action.FAVORITE, job_id, label="Favorite", emoji="❤️", row=3))
    if page is None:
        view.add_item(_button(Action.INFO, job_id, label="Web/Info", emoji="🌐", row=3))
    else:
        view.add_item(discord.ui.Button(label="Web", emoji="🌐", url=page, row=3))
    for number, item in enumerate(extra):
        item.row = 3 if number < 3 else 4
        view.add_item(item)
    return view


def cancel_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(_button(Action.CANCEL, job_id, emoji="❌", style=discord.ButtonStyle.danger))
    return view


def appeal_view(blocked_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        _button(
            Action.APPEAL,
            blocked_id,
            label="Appeal to moderators",
            style=discord.ButtonStyle.primary,
        )
    )
    return view
