"""/settings (an ephemeral panel) and /prefer (suffix and option macros)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import handle_error, tell
from cogs.resources import Resources
from db.users import (
    StylizePreset,
    UserSettings,
    VariationStrength,
    delete_user_option,
    get_user_settings,
    save_user_settings,
    set_user_option,
    user_options,
)
from inference.params import parse, parse_flags
from registry.versions import available_names
from studio.preferences import MAX_OPTIONS, check_option_name, check_suffix, split_flags

_STYLIZE_LABELS = {
    StylizePreset.LOW: "Stylize low (--s 50)",
    StylizePreset.MED: "Stylize med (--s 100)",
    StylizePreset.HIGH: "Stylize high (--s 250)",
    StylizePreset.VERY_HIGH: "Stylize very high (--s 750)",
}


class SettingsPanel(discord.ui.View):
    """The /settings panel: three selects and a visibility toggle, saved on every change."""

    def __init__(
        self, resources: Resources, settings: UserSettings, model_names: list[str]
    ) -> None:
        """``model_names``: the registry's models everyone may use now (a select holds 25)."""
        super().__init__(timeout=600)
        self._resources = resources
        self.settings = settings
        default = resources.studio.default_model
        chosen_model = (settings.model or default).lower()
        names = sorted({*model_names[:24], default})
        _set_options(
            self.model_select,
            [
                discord.SelectOption(
                    label=name,
                    value=name,
                    description="the server's default" if name == default else None,
                    default=name == chosen_model,
                )
                for name in names
            ],
        )
        _set_options(
            self.stylize_select,
            [
                discord.SelectOption(
                    label=label,
                    value=preset.value,
                    default=preset == (settings.stylize or StylizePreset.MED),
                )
                for preset, label in _STYLIZE_LABELS.items()
            ],
        )
        _set_options(
            self.variation_select,
            [
                discord.SelectOption(
                    label=f"Variations: {strength.value}",
                    value=strength.value,
                    default=strength == settings.variation,
                )
                for strength in VariationStrength
            ],
        )
        self.visibility.label = (
            "Results: public" if settings.public else "Results: private (hidden from listings)"
        )
        self.visibility.style = (
            discord.ButtonStyle.success if settings.public else discord.ButtonStyle.secondary
        )

    @discord.ui.select(placeholder="Default model", custom_id="settings:model", row=0)
    async def model_select(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        await self._save(interaction, model=select.values[0])

    @discord.ui.select(placeholder="Stylize", custom_id="settings:stylize", row=1)
    async def stylize_select(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        await self._save(interaction, stylize=StylizePreset(select.values[0]))

    @discord.ui.select(placeholder="Variation strength", custom_id="settings:variation", row=2)
    async def variation_select(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[Any]
    ) -> None:
        await self._save(interaction, variation=VariationStrength(select.values[0]))

    @discord.ui.button(label="Results: public", custom_id="settings:public", row=3)
    async def visibility(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        await self._save(interaction, public=not self.settings.public)

    async def _save(self, interaction: discord.Interaction[Any], **changes: Any) -> None:
        current = await get_user_settings(self._resources.db, interaction.user.id)
        updated = dataclasses.replace(current, **changes)
        await save_user_settings(self._resources.db, updated)
        panel = SettingsPanel(self._resources, updated, await _model_names(self._resources))
        self.stop()
        await interaction.response.edit_message(content=describe(updated), view=panel)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await handle_error(interaction, error)


async def _model_names(resources: Resources) -> list[str]:
    return await available_names(resources.db, resources.clock())


def _set_options(select: discord.ui.Select[Any], options: list[discord.SelectOption]) -> None:
    select.options = options


def describe(settings: UserSettings) -> str:
    stylize = _STYLIZE_LABELS[settings.stylize or StylizePreset.MED]
    suffix = f"`{settings.suffix}`" if settings.suffix else "none"
    return (
        "**Your settings** (used when a prompt does not say otherwise)\n"
        f"Model: {settings.model or 'the server default'} · {stylize} · "
        f"Variations: {settings.variation.value} · "
        f"Results: {'public' if settings.public else 'private'} · Suffix: {suffix} · "
        f"Remix: {'on' if settings.remix else 'off'}"
    )


class PreferencesCog(commands.Cog, name="Preferences"):
    prefer = app_commands.Group(
        name="prefer", description="Your prompt suffix, option macros and Remix"
    )
    option = app_commands.Group(
        name="option", description="Custom --name options that stand for flags", parent=prefer
    )

    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    @app_commands.command(name="settings", description="Your default model, stylize and more")
    async def settings(self, interaction: discord.Interaction[Any]) -> None:
        current = await get_user_settings(self.resources.db, interaction.user.id)
        panel = SettingsPanel(self.resources, current, await _model_names(self.resources))
        await interaction.response.send_message(describe(current), view=panel, ephemeral=True)

    @prefer.command(name="suffix", description="Text added to the end of every prompt")
    @app_commands.describe(text="e.g. --ar 3:2 --s 250; leave empty to remove your suffix")
    async def suffix(self, interaction: discord.Interaction[Any], text: str = "") -> None:
        suffix = check_suffix(text)
        parse_flags(split_flags(suffix)[1], self.resources.settings.parse_limits)
        current = await get_user_settings(self.resources.db, interaction.user.id)
        await save_user_settings(self.resources.db, dataclasses.replace(current, suffix=suffix))
        await tell(interaction, f"✅ Suffix set to `{suffix}`." if suffix else "✅ Suffix removed.")

    @prefer.command(name="remix", description="Edit the prompt before each variation or zoom")
    @app_commands.describe(
        mode="on: V1–V4, Vary, Zoom Out, Pan and 🔄 first open the prompt for you to edit"
    )
    async def remix(
        self, interaction: discord.Interaction[Any], mode: Literal["on", "off"]
    ) -> None:
        current = await get_user_settings(self.resources.db, interaction.user.id)
        on = mode == "on"
        await save_user_settings(self.resources.db, dataclasses.replace(current, remix=on))
        await tell(
            interaction,
            "✅ Remix is on: V1–V4, Vary, Zoom Out, Pan and 🔄 will first let you edit the prompt."
            if on
            else "✅ Remix is off: the buttons reuse the prompt as it is.",
        )

    @option.command(name="set", description="Make --NAME stand for a set of flags")
    @app_commands.describe(name="the option's name, e.g. portrait", flags="e.g. --ar 2:3 --s 250")
    async def option_set(
        self, interaction: discord.Interaction[Any], name: str, flags: str
    ) -> None:
        user_id = interaction.user.id
        name = check_option_name(name)
        flags = " ".join(flags.split())
        # As if with an image, so that an option may hold --iw for image prompts.
        parse(f"x {flags}", self.resources.settings.parse_limits, attached=1)
        existing = await user_options(self.resources.db, user_id)
        if name not in existing and len(existing) >= MAX_OPTIONS:
            await tell(
                interaction,
                f"⚠️ You have {MAX_OPTIONS} options, the most allowed; delete one first.",
            )
            return
        await set_user_option(self.resources.db, user_id, name, flags)
        await tell(interaction, f"✅ `--{name}` now means `{flags}`.")

    @option.command(name="list", description="Your custom options")
    async def option_list(self, interaction: discord.Interaction[Any]) -> None:
        options = await user_options(self.resources.db, interaction.user.id)
        if not options:
            await tell(interaction, "You have no custom options. Add one with /prefer option set.")
            return
        lines = [f"`--{name}` → `{flags}`" for name, flags in options.items()]
        await tell(interaction, "**Your options**\n" + "\n".join(lines))

    @option.command(name="delete", description="Delete one of your custom options")
    @app_commands.describe(name="the option's name")
    async def option_delete(self, interaction: discord.Interaction[Any], name: str) -> None:
        stored = name.strip().lower().lstrip("-")
        if await delete_user_option(self.resources.db, interaction.user.id, stored):
            await tell(interaction, f"✅ `--{stored}` deleted.")
        else:
            await tell(interaction, f"⚠️ You have no option called `--{stored}`.")
