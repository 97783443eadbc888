"""The web studio: aiohttp pages and the operations endpoints, on the bot's loop."""
