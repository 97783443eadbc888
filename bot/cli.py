"""The ``atelier`` command: run the bot, check the set-up, generate locally, list models,
manage the database.

Exit codes: 0 success, 1 a runtime failure (model could not load, generation failed,
Discord did not answer), 2 an operator's mistake: bad input, settings, ``.env`` or set-up
(one line per problem on stderr, no traceback; no job recorded, nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from bot.data_folder import SetupError, output_problem, writable_problem
from bot.envfile import ENV_FILE
from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings
from core.errors import UserFacingError
from db.database import Database
from inference.hub_files import hub_file
from inference.models import source_kind
from registry.configured import configured_models
from registry.versions import (
    ModelKind,
    NewVersion,
    all_versions,
    lora_location,
    weights_facts,
)
from registry.weight_files import short_hash

EXIT_FAILURE = 1
EXIT_USAGE = 2

_TRY_LOCALLY = """\
To try Atelier on this machine without Discord:
  {atelier} make-tiny-model ./tiny-model
  {atelier} imagine "a lighthouse at dusk --ar 16:9" --model ./tiny-model --out grid.png
(the tiny model has random weights: it makes noise, fast, to show the machinery; point
--model or ATELIER_MODEL at a real checkpoint for real images)"""


_RUN_HELP = """\
Check the set-up (as `atelier check` does), then log in to Discord and serve /imagine and
the other commands until Ctrl-C or SIGTERM, which let running jobs finish for
ATELIER_SHUTDOWN_GRACE_SECONDS (default 30).

Needs the bot's token in ATELIER_DISCORD_TOKEN, in the environment or in a .env file in
the working directory (see README.md, 'Connect to Discord'); every setting is an ATELIER_*
variable read the same way. Logging in and connecting may take
ATELIER_DISCORD_TIMEOUT_SECONDS (default 30) each."""

_CHECK_HELP = """\
Check everything that can be known without Discord: settings and .env, the token is set,
each device (and that CUDA computes), each configured model (found locally, in the
Hugging Face cache or on the hub: its type and size), each configured LoRA (its file's
header: format and family), disk space, the data folder (created
and writable) and the database (opened, migrated, integrity). One line per item, ✓ or ✗
with what to do; exit code 0 if all passed, 2 if not."""

_IMAGINE_EPILOG = """\
prompt flags (at the end of the prompt; see README.md, 'Prompt syntax'):
  --ar W:H       shape, 1:4 … 4:1 (default 1:1)
  --seed N       0 … 4294967295 (default random); image i uses N + i
  --no a, b      negative prompt
  --chaos N      0 … 100 (default 0): how different the four images are
  --stylize N    0 … 1000 (default 100): higher is freer, lower more literal
  --q N          .25, .5, 1, 2 (default 1): multiplies the steps
  --stop N       10 … 100 (default 100): stop denoising at N %
  --tile         seamless, tileable images
  --repeat N     run the prompt N times (up to ATELIER_MAX_REPEAT)
  --model NAME   a registered model ([:VERSION]); or use --model below
  --steps N      1 … 150 (default ATELIER_DEFAULT_STEPS)
  --sampler S    euler, euler_a, dpm++2m, dpm++2m_karras, ddim, unipc
  a:: b::2       weighted multi-prompt
  {red, blue} x  one job per combination

With several jobs (permutations, --repeat), --out grid.png becomes grid_1.png, grid_2.png,
…, each listed with its prompt. Images: GRID-1.png … GRID-4.png beside the grid."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        for problem in error.problems:
            _fail(problem)
        return EXIT_USAGE
    except SetupError as error:
        _fail(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130


def _version() -> str:
    try:
        return metadata.version("atelier")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier",
        description="Atelier: a self-hosted, Midjourney-style image studio for Discord.",
    )
    parser.add_argument("--version", action="version", version=f"atelier {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=description or help[0].upper() + help[1:] + ".",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = command("run", "check the set-up, then start the Discord bot", _RUN_HELP)
    run.set_defaults(handler=_run)

    check = command(
        "check", "check settings, devices, models and data without Discord", _CHECK_HELP
    )
    check.set_defaults(handler=_check)

    health = command(
        "health",
        "exit 0 if the bot running on this machine says it is healthy, else 1",
        "Ask the running bot's web server for GET /healthz on 127.0.0.1:ATELIER_WEB_PORT "
        "(default 8080): exit 0 on 200, else 1 with one line. For a container's HEALTHCHECK.",
    )
    health.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the answer (default 5)"
    )
    health.set_defaults(handler=_health)

    imagine = command(
        "imagine",
        "generate a 2×2 grid from a prompt, locally",
        "Generate like /imagine does, with the same Midjourney-style flags, through the same "
        "model registry and worker pool; the job is recorded in the database.",
    )
    imagine.epilog = _IMAGINE_EPILOG
    imagine.add_argument("prompt", help='the prompt and its flags, e.g. "a fox --ar 3:2 --seed 7"')
    imagine.add_argument(
        "--model",
        help="a model's name (or name:version), hub id, folder or .safetensors file "
        "(default: ATELIER_MODEL)",
    )
    imagine.add_argument(
        "--out",
        type=Path,
        default=Path("grid.png"),
        help="the grid's file (.png; default grid.png); the images go beside it",
    )
    imagine.add_argument("--force", action="store_true", help="overwrite files that already exist")
    imagine.add_argument("--device", help="cpu, cuda:0, … (default: first of ATELIER_DEVICES)")
    imagine.set_defaults(handler=_imagine)

    serve = command(
        "web",
        "serve the web studio alone (no Discord) on the data folder",
        "Serve the web pages on ATELIER_WEB_HOST:ATELIER_WEB_PORT (default 127.0.0.1:8080)\n"
        "from the database and images in ATELIER_DATA_DIR, without Discord, until Ctrl-C.",
    )
    serve.set_defaults(handler=_web)

    models = command(
        "models",
        "list the models and LoRAs: configured ones and LoRAs added with /models add",
        "List the configured models (ATELIER_MODEL, ATELIER_MODELS) and LoRAs (ATELIER_LORAS),\n"
        "then the LoRAs registered with /models add (from the database in ATELIER_DATA_DIR).",
    )
    models.set_defaults(handler=_models)

    tiny = command(
        "make-tiny-model",
        "write a tiny random-weight SD pipeline (offline; for tests and trying things)",
    )
    tiny.add_argument("directory", type=Path, help="a new folder to write it to")
    tiny.add_argument("--arch", choices=["sd", "sdxl"], default="sd", help="(default sd)")
    tiny.add_argument("--seed", type=int, default=0, help="weight initialisation seed (default 0)")
    tiny.add_argument(
        "--ip-adapter",
        action="store_true",
        help="also write a random IP-Adapter for it (DIRECTORY/ip-adapter, for ATELIER_IP_ADAPTER)",
    )
    tiny.set_defaults(handler=_make_tiny_model)

    database = command("db", "database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    backup = db_commands.add_parser(
        "backup",
        help="online backup of the database to a new file (safe while the bot runs)",
        description="Write a consistent copy of ATELIER_DATA_DIR/atelier.db to a new file, "
        "safe while the bot runs. Make one before upgrading Atelier.",
    )
    backup.add_argument("path", type=Path, help="the new file (never overwritten)")
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


def _token(settings: Settings) -> str:
    return settings.discord_token.get_secret_value().strip() if settings.discord_token else ""


def _run(args: argparse.Namespace) -> int:
    settings = _settings()
    if not _token(settings):
        _fail(
            "ATELIER_DISCORD_TOKEN is not set. Put your bot's token in the environment or in a "
            ".env file next to where you run atelier (see README.md, 'Connect to Discord')."
        )
        print(_try_locally(), file=sys.stderr)
        return EXIT_USAGE
    _quiet_model_libraries()
    from bot.checks import Outcome, run_checks

    checks = run_checks(settings)
    problems = [check for check in checks if check.failed]
    for check in problems:
        _fail(check.line())
    if problems:
        return EXIT_USAGE
    for check in checks:
        if check.outcome is Outcome.WARNED:
            print(check.line(), file=sys.stderr)

    import aiohttp
    import discord

    from bot.app import DiscordAddressError, DiscordTimeoutError, run_bot
    from web.server import WebListenError

    try:
        asyncio.run(run_bot(settings, _token(settings)))
    except WebListenError as error:
        _fail(str(error))
        return EXIT_USAGE
    except discord.LoginFailure:
        _fail(
            "Discord refused the token in ATELIER_DISCORD_TOKEN; copy it again from the "
            "developer portal (Bot → Reset Token)"
        )
        return EXIT_USAGE
    except (DiscordTimeoutError, DiscordAddressError) as error:
        _fail(str(error))
        return EXIT_FAILURE
    except discord.HTTPException as error:  # after logging in: syncing commands, connecting
        _fail(f"Discord at {settings.discord_api_base} answered {error.status}: {error.text}")
        return EXIT_FAILURE
    except UserFacingError as error:  # a setting the checks let through (a race, a clash)
        _fail(str(error).replace("`", ""))
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError) as error:
        _fail(f"could not reach Discord at {settings.discord_api_base}: {error}")
        return EXIT_FAILURE
    except discord.PrivilegedIntentsRequired:
        _fail("Discord asked for privileged intents, which Atelier does not use; please report")
        return EXIT_FAILURE
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        for problem in error.problems:
            print(f"✗ settings: {problem}")
        return EXIT_USAGE
    where = (
        f"{ENV_FILE.absolute()} and the environment"
        if ENV_FILE.is_file()
        else (f"the environment (no {ENV_FILE} in {Path.cwd()})")
    )
    print(f"✓ settings: read from {where}")
    if _token(settings):
        print("✓ Discord token: set (Discord itself checks it at login)")
    else:
        print(
            "✗ Discord token: ATELIER_DISCORD_TOKEN is not set; put the bot's token in .env "
            "or the environment (README.md, 'Connect to Discord')"
        )
    _quiet_model_libraries()
    from bot.checks import run_checks

    checks = run_checks(settings)
    for check in checks:
        print(check.line())
    failed = not _token(settings) or any(check.failed for check in checks)
    return EXIT_USAGE if failed else 0


def _health(args: argparse.Namespace) -> int:
    from bot.health import health_problem

    problem = health_problem(load_settings().web_port, args.timeout)
    if problem is not None:
        _fail(f"unhealthy: {problem}")
        return EXIT_FAILURE
    print("healthy")
    return 0


def _imagine(args: argparse.Namespace) -> int:
    settings = _settings()
    problem = output_problem(args.out)  # before the model libraries' seconds of imports
    if problem is not None:
        _fail(problem)
        return EXIT_USAGE
    _quiet_model_libraries()
    from bot.local_imagine import imagine, input_lines
    from inference.loading import ModelLoadError
    from inference.pool.events import JobFailedError

    try:
        results = asyncio.run(
            imagine(
                args.prompt,
                settings=settings,
                model_override=args.model,
                out=args.out,
                device=args.device,
                force=args.force,
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
    for made in results:
        run, result = made.run, made.result
        seeds = ", ".join(str(image.seed) for image in result.images)
        if len(results) == 1:
            print(f"{run.grid_path}: seeds {seeds}")
        else:  # permutations and repeats: which prompt made which grid
            print(f"{run.grid_path}: {run.request.prompt!r}, seeds {seeds}")
        for line in input_lines(made.job):
            print(f"  {line}")
        for image in result.images:
            print(f"  {image.path} ({image.width}×{image.height}, seed {image.seed})")
    return 0


def _models(args: argparse.Namespace) -> int:
    settings = _settings()
    configured = configured_models(settings.models, settings.model, settings.loras)
    for name, source in configured.sources.items():
        marker = " (default)" if name == configured.default else ""
        print(f"{name}{marker}\t{source_kind(source)}\t{source}")
    refused = False
    for name, text in configured.loras.items():
        try:  # a hub LoRA is read from the hub cache (downloaded into it if need be)
            source, weight_name = lora_location(text)
            lora = NewVersion(
                name, "1", source, "other", kind=ModelKind.LORA, weight_name=weight_name
            )
            family, sha256 = weights_facts(lora, hub_file)
        except UserFacingError as error:
            _fail(f"LoRA {name} (ATELIER_LORAS): {str(error).replace('`', '')}")
            refused = True
            continue
        print(f"{name}\tlora {family}\t{short_hash(sha256) or '-'}\t{text}")
    if settings.database_path.is_file():
        asyncio.run(_print_registered_loras(settings.database_path, set(configured.loras)))
    return EXIT_USAGE if refused else 0


async def _print_registered_loras(path: Path, configured: set[str]) -> None:
    """The LoRAs moderators registered with /models add: key, family, hash, status and
    trigger words (the configured ones are listed from the settings above)."""
    async with await Database.open(path) as db:
        for version in await all_versions(db):
            if version.is_lora and version.name not in configured:
                triggers = ", ".join(version.trigger_words) or "-"
                print(
                    f"{version.key}\tlora {version.family}\t{version.short_hash or '-'}"
                    f"\t{version.status.value}\ttriggers: {triggers}"
                )


def _make_tiny_model(args: argparse.Namespace) -> int:
    _quiet_model_libraries()
    from inference.tiny import save_tiny_model

    if args.directory.exists() and not (
        args.directory.is_dir() and not any(args.directory.iterdir())
    ):
        _fail(f"{args.directory} already exists; give the name of a new folder")
        return EXIT_USAGE
    problem = writable_problem(args.directory.parent, create=False)
    if problem is not None:
        _fail(f"{args.directory}: {problem}; choose a folder you can write to")
        return EXIT_USAGE
    directory = save_tiny_model(args.directory, args.arch, args.seed)
    print(f"Wrote a tiny random-weight {args.arch.upper()} pipeline to {directory}")
    if args.ip_adapter:
        from inference.tiny import build_tiny_pipeline
        from inference.tiny_ip_adapter import save_tiny_ip_adapter

        pipe = build_tiny_pipeline(args.arch, args.seed)
        adapter = save_tiny_ip_adapter(pipe, directory / "ip-adapter", seed=args.seed)
        print(f"and an IP-Adapter for it: ATELIER_IP_ADAPTER={adapter.resolve()}")
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
    problem = writable_problem(args.path.parent, create=False)
    if problem is not None:
        _fail(f"{args.path}: {problem}; choose a folder you can write to")
        return EXIT_USAGE

    async def backup() -> None:
        async with await Database.open(settings.database_path) as db:
            await db.backup(args.path)

    asyncio.run(backup())
    print(f"Backed up {settings.database_path} to {args.path}")
    return 0
