"""The studio: what /imagine and its buttons do, without Discord.

Preferences and macros applied to prompts, moderation by banned words, who may press what,
and planning rerolls, variations and upscales from jobs in the database. Cogs call these
services and turn :class:`StudioError` into ephemeral replies; nothing here imports discord.
"""
