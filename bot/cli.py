"""The ``atelier`` command: run the bot, generate locally, list models, manage the database.

Exit codes: 0 success, 1 a runtime failure (model could not load, generation failed),
2 bad input or settings (message on stderr; no job recorded, no image written).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from core.errors import UserFacingError
from inference.models import source_kind
from registry.configured import configured_models

EXIT_FAILURE = 1
EXIT_USAGE = 2

_TRY_LOCALLY = """\
To try Atelier on this machine without Discord:
  {atelier} make-tiny-model ./tiny-model
  {atelier} imagine "a lighthouse at dusk --ar 16:9" --model ./tiny-model --out grid.png
(the tiny model has random weights: it makes noise, fast, to show the machinery; point
--model or ATELIER_MODEL at a real checkpoint for real images)"""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        _fail("invalid settings:")
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: a self-hosted, Midjourney-style image studio for Discord.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="start the Discord bot")
    run.set_defaults(handler=_run)

    imagine = commands.add_parser(
        "imagine",
        help="generate a 2×2 grid from a prompt, locally",
        description="Generate like /imagine does, with the same Midjourney-style flags.",
    )
    imagine.add_argument("prompt", help='the prompt and its flags, e.g. "a fox --ar 3:2 --seed 7"')
    imagine.add_argument(
        "--model", help="a model's name (or name:version), hub id, folder or .safetensors file"
    )
    imagine.add_argument("--out", type=Path, default=Path("grid.png"), help="grid file (.png)")
    imagine.add_argument("--device", help="cpu, cuda:0, … (default: first of ATELIER_DEVICES)")
    imagine.set_defaults(handler=_imagine)

    serve = commands.add_parser(
        "web",
        help="serve the web studio alone (no Discord) on the data folder",
        description="Serve the web pages on ATELIER_WEB_HOST:ATELIER_WEB_PORT from the "
        "database and images in ATELIER_DATA_DIR, without Discord, until Ctrl-C.",
    )
    serve.set_defaults(handler=_web)

    models = commands.add_parser("models", help="list the configured models")
    models.set_defaults(handler=_models)

    tiny = commands.add_parser(
        "make-tiny-model",
        help="write a tiny random-weight SD pipeline (offline; for tests and trying things)",
    )
    tiny.add_argument("directory", type=Path)
    tiny.add_argument("--arch", choices=["sd", "sdxl"], default="sd")
    tiny.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    tiny.set_defaults(handler=_make_tiny_model)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    backup = db_commands.add_parser(
        "backup", help="online backup of the database to a new file (safe while the bot runs)"
    )
    backup.add_argument("path", type=Path)
    backup.set_defaults(handler=_db_backup)
    return parser


def _quiet_model_libraries() -> None:
    """Before torch, diffusers and transformers load (imported lazily so that light
    commands start fast), turn their chatter down."""
    from inference.library_logs import quiet_library_logs

    quiet_library_logs()


def _settings() -> Settings:
    """Load settings and set up logging, which must know the token in order to hide it."""
    settings = load_settings()
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    setup_logging(settings.log_level, secrets=[token])
    return settings


def _try_locally() -> str:
    """The local-trial hint, naming the command the way it was just started
    (``.venv/bin/atelier`` after ``make run``) so it can be pasted as is."""
    started_as = sys.argv[0] if Path(sys.argv[0]).name == "atelier" else "atelier"
    return _TRY_LOCALLY.format(atelier=started_as)


def _fail(message: str) -> None:
    print(f"atelier: {message}", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        _fail(
            "ATELIER_DISCORD_TOKEN is not set. Put your bot's token in the environment or in a "
            ".env file next to where you run atelier (see README.md, 'Connect to Discord')."
        )
        print(_try_locally(), file=sys.stderr)
        return EXIT_USAGE
    _quiet_model_libraries()
    import aiohttp
    import discord

    from bot.app import run_bot
    from web.server import WebListenError

    try:
        asyncio.run(run_bot(settings, settings.discord_token.get_secret_value().strip()))
    except WebListenError as error:
        _fail(str(error))
        return EXIT_USAGE
    except discord.LoginFailure:
        _fail(
            "Discord refused the token in ATELIER_DISCORD_TOKEN; copy it again from the "
            "developer portal (Bot → Reset Token)"
        )
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError) as error:
        _fail(f"could not reach Discord at {settings.discord_api_base}: {error}")
        return EXIT_FAILURE
    except discord.PrivilegedIntentsRequired:
        _fail("Discord asked for privileged intents, which Atelier does not use; please report")
        return EXIT_FAILURE
    return 0


def _imagine(args: argparse.Namespace) -> int:
    _quiet_model_libraries()
    from bot.local_imagine import imagine
    from inference.loading import ModelLoadError
    from inference.pool.events import JobFailedError

    settings = _settings()
    try:
        results = asyncio.run(
            imagine(
                args.prompt,
                settings=settings,
                model_override=args.model,
                out=args.out,
                device=args.device,
            )
        )
    except ModelLoadError as error:
        _fail(str(error))
        return EXIT_FAILURE
    except UserFacingError as error:  # the prompt, --model, --out or --device: fix and retry
        _fail(str(error))
        return EXIT_USAGE
    except JobFailedError as error:
        _fail(f"generation failed: {error}")
        return EXIT_FAILURE
    for run, result in results:
        print(f"{run.grid_path}: seeds {', '.join(str(image.seed) for image in result.images)}")
        for image in result.images:
            print(f"  {image.path} ({image.width}×{image.height}, seed {image.seed})")
    return 0


def _models(args: argparse.Namespace) -> int:
    settings = _settings()
    configured = configured_models(settings.models, settings.model)
    for name, source in configured.sources.items():
        marker = " (default)" if name == configured.default else ""
        print(f"{name}{marker}\t{source_kind(source)}\t{source}")
    return 0


def _make_tiny_model(args: argparse.Namespace) -> int:
    _quiet_model_libraries()
    from inference.tiny import save_tiny_model

    directory = save_tiny_model(args.directory, args.arch, args.seed)
    print(f"Wrote a tiny random-weight {args.arch.upper()} pipeline to {directory}")
    return 0


def _web(args: argparse.Namespace) -> int:
    from bot.web_alone import serve_web
    from web.server import WebListenError

    settings = _settings()
    if not settings.database_path.exists():
        _fail(f"there is no database at {settings.database_path} yet (ATELIER_DATA_DIR)")
        return EXIT_USAGE
    try:
        asyncio.run(serve_web(settings, ready=lambda url: print(f"Serving on {url}", flush=True)))
    except WebListenError as error:
        _fail(str(error))
        return EXIT_USAGE
    return 0


def _db_backup(args: argparse.Namespace) -> int:
    from db.database import Database

    settings = _settings()
    if not settings.database_path.exists():
        _fail(f"there is no database at {settings.database_path} yet (ATELIER_DATA_DIR)")
        return EXIT_USAGE
    if args.path.exists():
        _fail(f"{args.path} already exists; choose a new file name")
        return EXIT_USAGE

    async def backup() -> None:
        async with await Database.open(settings.database_path) as db:
            await db.backup(args.path)

    asyncio.run(backup())
    print(f"Backed up {settings.database_path} to {args.path}")
    return 0
