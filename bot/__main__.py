"""``python -m bot``: starts the bot, like ``atelier run``; other arguments go to the CLI."""

import sys

from bot.cli import main

sys.exit(main(sys.argv[1:] or ["run"]))
