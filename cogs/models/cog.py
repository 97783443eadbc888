"""/models: list and inspect the registry; moderators of the operator's home servers add,
edit, certify, release and retire versions (the registry is one for every server the bot
is in). Rules live in ``registry.versions`` and ``registry.releases``; this cog parses,
checks who is asking, and renders."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.errors import tell
from cogs.models import render
from cogs.models.announcer import EarlyAccessEnds, released_text
from cogs.moderators import ensure_registry_moderator
from cogs.resources import Resources
from funding.releases import release_version
from inference.params import SAMPLERS, canonical_sampler
from registry.errors import RegistryError
from registry.fields import FAMILIES, MAX_LORA_WEIGHT, MIN_LORA_WEIGHT
from registry.recommended import MAX_CFG, MAX_STEPS, MIN_CFG, Recommended
from registry.releases import MAX_EARLY_ACCESS_DAYS
from registry.versions import (
    ModelKind,
    NewVersion,
    VersionEdit,
    add_version,
    all_versions,
    check_new_version,
    edit_version,
    find_version,
    images_made,
    needs_reading,
    retire,
    set_certified,
    versions_of,
)

_FAMILY_CHOICES = [app_commands.Choice(name=family, value=family) for family in FAMILIES]
_KIND_CHOICES = [app_commands.Choice(name=kind.value, value=kind.value) for kind in ModelKind]
_SAMPLER_CHOICES = [app_commands.Choice(name=name, value=key) for key, name in SAMPLERS.items()]
_Weight = app_commands.Range[float, MIN_LORA_WEIGHT, MAX_LORA_WEIGHT]
_MODEL_HELP = "name or name:version, e.g. mymodel:2"


class ModelsCog(commands.Cog, name="Models"):
    models = app_commands.Group(name="models", description="The models you can use with --model")

    def __init__(self, client: discord.Client, resources: Resources) -> None:
        self.client = client
        self.resources = resources
        self.early_access = EarlyAccessEnds(client, resources.db)
        resources.phases.add(self.early_access)

    async def _ensure_registry_moderator(
        self, interaction: discord.Interaction[Any], what: str
    ) -> bool:
        """The registry is one for the whole bot: only moderators of the operator's home
        servers change it."""
        return await ensure_registry_moderator(
            self.resources.db, interaction, self.resources.settings.home_guild_ids, what
        )

    # --- for everyone ----------------------------------------------------------------------

    @models.command(name="list", description="Every model: status, license, certified, images")
    async def list_models(self, interaction: discord.Interaction[Any]) -> None:
        # Counting every image ever made reads the whole images table: answer "thinking…"
        # first, within Discord's three seconds, however big the server's history is.
        await interaction.response.defer(ephemeral=True, thinking=True)
        db = self.resources.db
        embed = render.list_embed(
            await all_versions(db),
            await images_made(db),
            self.resources.studio.default_model,
            self.resources.clock(),
        )
        await interaction.followup.send(embed=embed, ephemeral=True)

    @models.command(name="info", description="Everything about a model version")
    @app_commands.describe(model=_MODEL_HELP)
    async def info(self, interaction: discord.Interaction[Any], model: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # images_made: as above
        db = self.resources.db
        version = await find_version(db, model)
        embed = render.info_embed(
            version,
            await versions_of(db, version.name),
            await images_made(db),
            self.resources.clock(),
        )
        await interaction.followup.send(embed=embed, ephemeral=True)

    # --- for moderators --------------------------------------------------------------------

    @models.command(name="add", description="Register a model version (moderators)")
    @app_commands.describe(
        name="what members type after --model: a–z, 0–9, . _ -",
        version="e.g. 1 or 2.1-beta",
        source="a hub id (org/model), or a diffusers folder or .safetensors/.ckpt file on the "
        "bot's machine",
        family="the base model family",
        license_name="e.g. CreativeML OpenRAIL-M",
        license_url="a link to the license (http or https)",
        creator="the member who made it",
        description="what it is good at",
        kind="checkpoint (used with --model) or lora (used as <lora:name:weight> in prompts)",
        file_name="a hub LoRA: the .safetensors file inside the repository",
        trigger_words="a LoRA's trigger words, comma-separated",
        default_weight="a LoRA's weight when a prompt gives none (default 1)",
    )
    @app_commands.choices(family=_FAMILY_CHOICES, kind=_KIND_CHOICES)
    async def add(
        self,
        interaction: discord.Interaction[Any],
        name: app_commands.Range[str, 1, 64],
        version: app_commands.Range[str, 1, 32],
        source: app_commands.Range[str, 1, 500],
        family: str,
        license_name: app_commands.Range[str, 0, 100] = "",
        license_url: str | None = None,
        creator: discord.User | None = None,
        description: app_commands.Range[str, 0, 1000] = "",
        kind: str = ModelKind.CHECKPOINT.value,
        file_name: app_commands.Range[str, 1, 200] | None = None,
        trigger_words: app_commands.Range[str, 0, 500] = "",
        default_weight: _Weight = 1.0,
    ) -> None:
        if not await self._ensure_registry_moderator(interaction, "add models"):
            return
        # The registry checks the source (a checkpoint's or a LoRA's) and refuses a bad one
        # in the same words whether or not the path exists.
        model_kind = ModelKind(kind)
        new = NewVersion(
            name=name,
            version=version,
            source=source,
            family=family,
            license_name=license_name,
            license_url=license_url,
            creator_id=creator.id if creator else None,
            description=description,
            kind=model_kind,
            weight_name=file_name,
            trigger_words=trigger_words,
            default_weight=default_weight,
        )
        # Checked first, so every refusal is answered the same way whatever is at the path;
        # then a weights file is read whole for its hash: answer "thinking…" first.
        if needs_reading(check_new_version(new)):
            await interaction.response.defer(ephemeral=True, thinking=True)
        added = await add_version(
            self.resources.db,
            new,
            added_by=interaction.user.id,
            now=self.resources.clock(),
            fetch_hub=self.resources.fetch_hub,
        )
        use = (
            f"Members add it to prompts as `<lora:{added.name}:{added.default_weight:g}>`"
            if added.is_lora
            else f"Members use it with `--model {added.key}`"
        )
        await tell(
            interaction,
            f"✅ Added **{added.key}** ({'LoRA, ' if added.is_lora else ''}upcoming). "
            f"Release it with `/models release model:{added.key}`; its creator or a moderator "
            f"can raise support for it first with /campaign create. {use} once it is released.",
        )

    @models.command(name="edit", description="Change a version's details (moderators)")
    @app_commands.describe(
        model="name:version",
        source="a new source (only while the version is upcoming)",
        family="the base model family",
        license_name="the license's name",
        license_url="a link to the license (http or https)",
        creator="the member who made it",
        description="what it is good at",
        trigger_words="a LoRA's trigger words, comma-separated",
        default_weight="a LoRA's weight when a prompt gives none",
        steps="recommended steps",
        sampler="recommended sampler",
        cfg="recommended guidance (CFG) scale",
        negative_prompt="recommended negative prompt (empty: none)",
        weight_min="a LoRA's recommended lowest weight",
        weight_max="a LoRA's recommended highest weight",
        inpaint_source="a dedicated inpainting checkpoint for zoom, pan and region (empty: none)",
    )
    @app_commands.choices(family=_FAMILY_CHOICES, sampler=_SAMPLER_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction[Any],
        model: str,
        source: app_commands.Range[str, 1, 500] | None = None,
        family: str | None = None,
        license_name: app_commands.Range[str, 0, 100] | None = None,
        license_url: str | None = None,
        creator: discord.User | None = None,
        description: app_commands.Range[str, 0, 1000] | None = None,
        trigger_words: app_commands.Range[str, 0, 500] | None = None,
        default_weight: _Weight | None = None,
        steps: app_commands.Range[int, 1, MAX_STEPS] | None = None,
        sampler: str | None = None,
        cfg: app_commands.Range[float, MIN_CFG, MAX_CFG] | None = None,
        negative_prompt: app_commands.Range[str, 0, 500] | None = None,
        weight_min: _Weight | None = None,
        weight_max: _Weight | None = None,
        inpaint_source: app_commands.Range[str, 0, 500] | None = None,
    ) -> None:
        if not await self._ensure_registry_moderator(interaction, "edit models"):
            return
        if sampler is not None and canonical_sampler(sampler) is None:
            raise RegistryError(f"unknown sampler `{sampler}`; choose one of {', '.join(SAMPLERS)}")
        change = VersionEdit(
            source=source,
            family=family,
            license_name=license_name,
            license_url=license_url,
            creator_id=creator.id if creator else None,
            description=description,
            trigger_words=trigger_words,
            default_weight=default_weight,
            recommended=Recommended(
                steps=steps,
                sampler=None if sampler is None else canonical_sampler(sampler),
                cfg=cfg,
                negative_prompt=negative_prompt,
                weight_min=weight_min,
                weight_max=weight_max,
            ),
            inpaint_source=inpaint_source,
        )
        if change.source is not None or change.family is not None:
            # A LoRA's new file (or family) is read whole, a hub one maybe downloaded first.
            await interaction.response.defer(ephemeral=True, thinking=True)
        edited = await edit_version(
            self.resources.db, model, change, fetch_hub=self.resources.fetch_hub
        )
        await tell(interaction, f"✅ Updated **{edited.key}**.")

    @models.command(
        name="certify",
        description="Mark a version as meeting the community's standards (moderators)",
    )
    @app_commands.describe(model="name:version", certified="False removes the mark")
    async def certify(
        self, interaction: discord.Interaction[Any], model: str, certified: bool = True
    ) -> None:
        if not await self._ensure_registry_moderator(interaction, "certify models"):
            return
        version = await set_certified(
            self.resources.db, model, certified=certified, moderator_id=interaction.user.id
        )
        text = "is now certified ✔" if certified else "is no longer certified"
        await tell(interaction, f"✅ **{version.key}** {text}.")

    @models.command(name="release", description="Release an upcoming version (moderators)")
    @app_commands.describe(
        model="name:version",
        early_access_days="days only its backers may use it (default: its funded campaign's)",
    )
    async def release(
        self,
        interaction: discord.Interaction[Any],
        model: str,
        early_access_days: app_commands.Range[int, 0, MAX_EARLY_ACCESS_DAYS] | None = None,
    ) -> None:
        resources = self.resources
        if not await self._ensure_registry_moderator(interaction, "release models"):
            return
        version = await release_version(
            resources.db, model, early_access_days=early_access_days, now=resources.clock()
        )
        await tell(interaction, released_text(version))
        # The announcement was recorded with the release: post it now, and if Discord
        # refuses, the timer tries again (poke arms it for the retry or the early access's end).
        await self.early_access.post_pending(resources.clock())
        await resources.phases.poke()

    @models.command(name="retire", description="Take a version out of use (moderators)")
    @app_commands.describe(model="name:version")
    async def retire(self, interaction: discord.Interaction[Any], model: str) -> None:
        if not await self._ensure_registry_moderator(interaction, "retire models"):
            return
        version = await retire(self.resources.db, model, now=self.resources.clock())
        await tell(
            interaction,
            f"✅ **{version.key}** is retired: nobody can use it any more; its images stay.",
        )

    @info.autocomplete("model")
    @edit.autocomplete("model")
    @certify.autocomplete("model")
    @release.autocomplete("model")
    @retire.autocomplete("model")
    async def _model_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        keys = [version.key for version in await all_versions(self.resources.db)]
        names = sorted({key.partition(":")[0] for key in keys})
        matches = [key for key in [*names, *keys] if typed in key]
        return [app_commands.Choice(name=key, value=key) for key in matches[:25]]
