"""The prompt form: Remix (the prompt to edit before V*n*, Vary, Zoom Out, Pan or 🔄) and
Custom Zoom (the prompt with ``--zoom`` and/or ``--ar``).

Like the pledge form (``cogs.funding.pledge_form``), the form never lives in memory: it is
stopped before it is sent, so a form left open across a restart is still answered. Its
custom_id names the button it stands for, ``atelier-form:<action>:<job>:<index>``, and the
imagine cog's ``on_interaction`` listener reads every submission from the interaction's
data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import discord

from cogs.custom_ids import StaleCustomId, check_custom_id
from cogs.forms import submitted_values
from cogs.imagine.buttons import Action, Press, parse_custom_id

#: Every custom_id starting so is a prompt form's (a malformed one is answered as stale).
FORM_PREFIX = "atelier-form:"
PROMPT_INPUT = "prompt"
#: Discord's most for a text input; the prompt's own limit is the parser's, which says so.
_INPUT_CHARS = 4000

#: What each form is titled (Discord allows 45 characters).
_TITLES = {
    Action.VARY_PICK: "Remix: Variations",
    Action.VARY_SUBTLE: "Remix: Vary (Subtle)",
    Action.VARY_STRONG: "Remix: Vary (Strong)",
    Action.REROLL: "Remix: Re-roll",
    Action.ZOOM_OUT_2: "Remix: Zoom Out 2×",
    Action.ZOOM_OUT_1_5: "Remix: Zoom Out 1.5×",
    Action.CUSTOM_ZOOM: "Custom Zoom",
    Action.PAN_LEFT: "Remix: Pan ⬅️",
    Action.PAN_RIGHT: "Remix: Pan ➡️",
    Action.PAN_UP: "Remix: Pan ⬆️",
    Action.PAN_DOWN: "Remix: Pan ⬇️",
}

#: The buttons that open the form first while the presser has Remix on (Custom Zoom opens
#: it always).
REMIXABLE = frozenset(_TITLES) - {Action.CUSTOM_ZOOM}


def prompt_form(press: Press, text: str) -> discord.ui.Modal:
    """The form for ``press``, prefilled with ``text`` (the prompt with its parameters).
    Send it with ``interaction.response.send_modal``."""
    form = discord.ui.Modal(
        title=_TITLES[press.action],
        custom_id=f"{FORM_PREFIX}{press.action.value}:{press.target_id}:{press.index}",
        timeout=None,
    )
    description = (
        "with its parameters; --zoom 1.0–2.0 zooms out, --ar W:H changes the shape"
        if press.action is Action.CUSTOM_ZOOM
        else "with its parameters, as in /imagine"
    )
    prompt: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        custom_id=PROMPT_INPUT,
        style=discord.TextStyle.paragraph,
        default=text[:_INPUT_CHARS],
        max_length=_INPUT_CHARS,
        # A square /blend's prompt is empty (no words, no flag to prefill), and Discord will
        # not submit an empty required input: the parser says what an empty prompt lacks.
        required=False,
    )
    form.add_item(discord.ui.Label(text="Prompt", description=description, component=prompt))
    form.stop()  # see the module docstring: the listener, not this object, takes the submit
    return form


@dataclass(frozen=True)
class PromptSubmission:
    press: Press
    text: str


def read_submission(interaction: discord.Interaction[Any]) -> PromptSubmission | None:
    """The prompt form's press and text, if ``interaction`` submits one; None for anything
    else. Raises ``StaleCustomId`` for a prompt form's custom_id that names no press (or
    one no form stands for)."""
    if interaction.type is not discord.InteractionType.modal_submit or not interaction.data:
        return None
    data: Mapping[str, Any] = interaction.data
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith(FORM_PREFIX):
        return None
    press = parse_custom_id("atelier:" + custom_id.removeprefix(FORM_PREFIX))
    if press is None or press.action not in _TITLES:
        raise StaleCustomId
    check_custom_id(custom_id)
    text = submitted_values(data.get("components", [])).get(PROMPT_INPUT)
    return PromptSubmission(press, text if isinstance(text, str) else "")
