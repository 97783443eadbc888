"""How Atelier answers the member who asked, and the one road every error takes to them.

``tell`` answers ephemerally whatever state the interaction is in. ``handle_error`` is
where every error raised while handling an interaction ends: a ``UserFacingError`` is
shown to the member as ``⚠️`` and its text (moments as Discord timestamps); anything else
is a bug, logged with its traceback, and the member gets an apology. Cogs let domain
refusals propagate instead of catching them one by one; they reach ``handle_error``
through the command tree's ``on_error`` (slash commands, in ``bot/app.py``),
:class:`AnswersErrors` (buttons: ``DynamicItem``), ``SettingsPanel.on_error`` (a view),
the pledge form's listener (modal submits) and the bot's ``on_interaction`` (presses and
forms that nothing handles: ``cogs.custom_ids``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import Enum
from typing import Any

import discord

from cogs.custom_ids import check_custom_id, custom_id_of
from cogs.fitting import fit_message
from cogs.timestamps import discord_time
from contests.errors import ContestHint
from core.errors import UserFacingError
from funding.errors import FundingHint
from registry.errors import RegistryHint

log = logging.getLogger(__name__)

APOLOGY = "⚠️ Something went wrong on Atelier's side; it has been logged. Try again."


async def tell(
    interaction: discord.Interaction[Any],
    text: str,
    *,
    view: discord.ui.View = discord.utils.MISSING,
) -> None:
    """Answer only the member who asked: the interaction's response if it has none yet,
    otherwise (deferred, or already answered) an ephemeral followup. Text of any length
    fits (``cogs.fitting.fit_message``: a long one comes with the whole of it as a file).

    After a public defer ("Atelier is thinking…", as ``/imagine`` makes), Discord makes the
    first followup fill in that placeholder, seen by everyone whatever ``ephemeral`` says;
    so while the placeholder is still thinking it is deleted first, and the answer comes as
    a followup of its own, seen only by the member (a refusal after a check that raced
    other requests, a model that failed to load)."""
    fitted = fit_message(text)
    files = [fitted.file] if fitted.file is not None else discord.utils.MISSING
    if not interaction.response.is_done():
        await interaction.response.send_message(
            fitted.content, ephemeral=True, view=view, files=files
        )
        return
    if await _public_placeholder(interaction):
        await interaction.delete_original_response()
    await interaction.followup.send(fitted.content, ephemeral=True, view=view, files=files)


async def _public_placeholder(interaction: discord.Interaction[Any]) -> bool:
    """Whether the interaction's original response is a public "thinking…" placeholder
    that nothing has filled in yet."""
    if interaction.response.type is not discord.InteractionResponseType.deferred_channel_message:
        return False
    original = await interaction.original_response()
    return original.flags.loading and not original.flags.ephemeral


#: Where a refusal's hint points the member, worded with the command that shows it (the
#: domains name the place, never the command).
HINT_TEXT: Mapping[Enum, str] = {
    ContestHint.CONTESTS: "`/contest list` shows this server's contests.",
    ContestHint.ENTRIES: "`/contest entries` lists the entries with their ids.",
    ContestHint.THEMES: "`/contest theme list` shows the queue.",
    FundingHint.CAMPAIGNS: "`/campaign list` shows this server's campaigns.",
    RegistryHint.EDIT: "Change it with `/models edit`, or add a different version.",
    RegistryHint.ADD: "Add a new version with `/models add` instead.",
}


def refusal_text(error: UserFacingError) -> str:
    """What the member reads when their request is refused."""
    text = f"⚠️ {error.render(discord_time)}"
    if error.hint is not None:
        text += f" {HINT_TEXT[error.hint]}"
    return text


async def handle_error(interaction: discord.Interaction[Any], error: Exception) -> None:
    """Tell the member why their request failed: the refusal itself for a
    ``UserFacingError``; for anything else, the apology, after logging it with its
    traceback."""
    if isinstance(error, UserFacingError):
        text = refusal_text(error)
    else:
        log.error(
            "%s by user %s failed", _describe(interaction), interaction.user.id, exc_info=error
        )
        text = APOLOGY
    try:
        await tell(interaction, text)
    except discord.HTTPException as failed:  # the interaction expired, or Discord is down
        log.warning("%s: could not tell the member: %s", _describe(interaction), failed)


class AnswersErrors:
    """For Atelier's ``DynamicItem`` buttons: put the press's work in ``pressed``.

    discord.py only logs what a ``DynamicItem``'s callback raises (``ViewStore`` calls it
    outside any view, so no ``View.on_error`` runs) and the member would see "This
    interaction failed"; this callback sends every error through ``handle_error``. A
    custom_id naming a number beyond what the database stores is refused here, for every
    button alike. List it before ``DynamicItem`` among the bases so that its ``callback``
    is the one used.
    """

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            check_custom_id(custom_id_of(interaction))
            await self.pressed(interaction)
        except Exception as error:
            await handle_error(interaction, error)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError


def _describe(interaction: discord.Interaction[Any]) -> str:
    """``/contest open`` or ``component atelier:u:42:1``: what was used, for the log (the
    interaction's token never goes there)."""
    if interaction.command is not None:
        return f"/{interaction.command.qualified_name}"
    data: Mapping[str, Any] = interaction.data or {}
    return f"{interaction.type.name} {data.get('custom_id', '')}".rstrip()
