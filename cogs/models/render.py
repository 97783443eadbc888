"""How the registry looks in Discord: status lines and the /models list and info embeds."""

from __future__ import annotations

from datetime import datetime

import discord

from cogs.fitting import Embed
from cogs.timestamps import discord_time
from inference.models import source_kind
from registry.versions import ImageCounts, ModelVersion, VersionStatus, lora_text

#: Discord's limits: 25 fields per embed, 1024 characters per field value.
MAX_FIELDS = 25
FIELD_CHARS = 1024


def status_text(version: ModelVersion, now: datetime) -> str:
    status = version.status_at(now)
    if status is VersionStatus.EARLY_ACCESS and version.early_access_until is not None:
        return f"early access (backers) until {discord_time(version.early_access_until)}"
    return status.value


def license_text(version: ModelVersion) -> str:
    name = version.license_name or "not stated"
    if version.license_url:
        return f"[{_escape_link(name)}]({version.license_url})"
    return name


def source_text(version: ModelVersion) -> str:
    """Hub ids are public; a local path only says what kind it is (the server's folders are
    not the members' business)."""
    kind = source_kind(version.source)
    if kind != "hub id":
        return f"local {kind}"
    return f"hub: `{lora_text(version.source, version.weight_name)}`"


def list_embed(
    versions: list[ModelVersion], images: ImageCounts, default_name: str, now: datetime
) -> discord.Embed:
    """One field per model: each version's status, license and certified mark, and the
    images made with the model."""
    by_model: dict[str, list[ModelVersion]] = {}
    for version in versions:
        by_model.setdefault(version.name, []).append(version)
    embed = Embed(
        title="Models",
        description="Use one with `--model name` (its newest version) or `--model name:version`;"
        " a LoRA with `<lora:name:0.8>` in the prompt. Details: `/models info name`.",
    )
    names = sorted(by_model)
    for name in names[:MAX_FIELDS]:
        lines = []
        for version in reversed(by_model[name]):  # newest first
            mark = " ✔ certified" if version.certified else ""
            lines.append(
                f"`{version.version}` · {status_text(version, now)} · {license_text(version)}{mark}"
            )
        lines.append(f"images made: {images.by_model.get(name, 0)}")
        title = f"{name} (default)" if name == default_name else name
        if by_model[name][0].is_lora:
            title = f"{name} (LoRA, {by_model[name][0].family})"
        embed.add_field(name=title, value=_fit(lines), inline=False)
    if len(names) > MAX_FIELDS:
        embed.set_footer(text=f"… and {len(names) - MAX_FIELDS} more; ask /models info by name")
    if not names:
        embed.description = "No models are registered yet."
    return embed


def info_embed(
    version: ModelVersion, siblings: list[ModelVersion], images: ImageCounts, now: datetime
) -> discord.Embed:
    """Everything about one version, and the model's other versions."""
    embed = Embed(
        title=f"{version.key}{' ✔' if version.certified else ''}",
        description=version.description or "No description.",
    )
    embed.add_field(name="Status", value=status_text(version, now))
    embed.add_field(name="Base family", value=version.family)
    embed.add_field(name="License", value=license_text(version))
    embed.add_field(
        name="Creator", value=f"<@{version.creator_id}>" if version.creator_id else "not stated"
    )
    embed.add_field(
        name="Certified",
        value=(f"✔ by <@{version.certified_by}>" if version.certified_by else "✔")
        if version.certified
        else "no",
    )
    embed.add_field(name="Source", value=source_text(version))
    embed.add_field(name="Images made", value=str(images.by_version.get(version.key, 0)))
    if version.short_hash is not None:
        embed.add_field(name="Hash (SHA-256)", value=f"`{version.short_hash}`")
    if version.is_lora:
        embed.add_field(name="Kind", value=f"LoRA · default weight {version.default_weight:g}")
        embed.add_field(name="Trigger words", value=", ".join(version.trigger_words) or "none")
    recommended = version.recommended.lines()
    if recommended:
        embed.add_field(name="Recommended settings", value=_fit(recommended), inline=False)
    if version.released_at is not None:
        embed.add_field(name="Released", value=discord_time(version.released_at))
    if version.retired_at is not None:
        embed.add_field(name="Retired", value=discord_time(version.retired_at))
    lines = [f"`{v.key}` · {status_text(v, now)}" for v in siblings]
    embed.add_field(name="Versions", value=_fit(lines), inline=False)
    embed.set_footer(text=f"Use it with {usage(version)}")
    return embed


def usage(version: ModelVersion) -> str:
    """How a member names ``version`` in a prompt."""
    if version.is_lora:
        return f"<lora:{version.name}@{version.version}:{version.default_weight:g}>"
    return f"--model {version.key}"


def _fit(lines: list[str]) -> str:
    shown: list[str] = []
    for number, line in enumerate(lines):
        rest = f"… and {len(lines) - number} more"
        if len("\n".join([*shown, line, rest])) > FIELD_CHARS:
            return "\n".join([*shown, rest])
        shown.append(line)
    return "\n".join(shown)


def _escape_link(text: str) -> str:
    return text.replace("[", "(").replace("]", ")")
