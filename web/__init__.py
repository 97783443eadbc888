"""The web studio: server-rendered pages for jobs, galleries, contests, campaigns, boards and
models, served by aiohttp on the bot's own event loop (or alone by ``atelier web``).

It reads through the domain packages and ``db`` and never writes; it never imports discord.
What may be shown at all is decided in one place, :mod:`studio.public_work`.
"""
