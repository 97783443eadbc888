"""The Discord bot: every resource built once and wired together.

``create_bot(settings)`` returns the bot; resources that need the event loop (the
database, the worker pool) are opened in ``setup_hook``, which discord.py runs at login,
before the gateway connects. ``AtelierBot.close`` shuts them down in the right order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import discord
import yarl
from aiohttp import web
from aiohttp.typedefs import Middleware
from discord import app_commands
from discord.ext import commands

from bot.checks import ip_adapter_family
from bot.objects import freeze_start_up_objects
from bot.settings import Settings
from bot.web_secret import web_secret
from cogs.admin import AdminCog
from cogs.contests.cog import ContestsCog
from cogs.custom_ids import StaleCustomId, claimed
from cogs.errors import handle_error
from cogs.funding.cog import FundingCog
from cogs.funding.pledge_form import FORM_PREFIX
from cogs.imagine.buttons import AtelierButton
from cogs.imagine.cog import ImagineCog
from cogs.imagine.prompt_form import FORM_PREFIX as PROMPT_FORM_PREFIX
from cogs.leaderboards.cog import LeaderboardsCog
from cogs.models.cog import ModelsCog
from cogs.phases import PhaseTimer
from cogs.preferences import PreferencesCog
from cogs.resources import CogSettings, Resources, Tuning
from cogs.upscale_buttons import UpscaleButtons
from core.clock import utc_now
from db.database import Database
from db.users import remember_name
from inference.backend import diffusers_factory
from inference.devices import resolve_devices
from inference.hub_files import cached_hub_file, hub_file
from inference.loading import ModelLoadError
from inference.pool.pool import WorkerPool
from inference.pool.worker import BackendFactory
from intake.fetch import ImageIntake
from registry.configured import configured_models, enter_configured
from studio.editor_links import EditorLinks
from studio.errors import StudioError
from studio.models import RegisteredModels
from studio.queue_limits import queue_limits_in_force
from studio.region_editing import RegionEditor
from studio.service import Studio, StudioConfig
from web.app import create_web_app
from web.context import WebContext
from web.operations import HealthSources, operations
from web.server import WebServer

log = logging.getLogger(__name__)

#: After the pool stopped, how long result uploads already under way may take.
_DELIVERY_GRACE_SECONDS = 15.0


class AtelierTree(app_commands.CommandTree[Any]):
    """Slash-command errors go the one way (``cogs.errors.handle_error``): a refusal is
    shown to the member; anything unexpected is logged and the member gets an apology
    instead of Discord's "The application did not respond". A refused check has already
    answered."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CheckFailure) and interaction.response.is_done():
            return
        raised = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await handle_error(interaction, raised)


def cog_settings(settings: Settings) -> CogSettings:
    """What the cogs read of the operator's settings."""
    return CogSettings(
        engine_defaults=settings.engine_defaults(),
        parse_limits=settings.parse_limits(),
        home_guild_ids=settings.home_guild_ids,
        queue_limits=settings.queue_limits(),
        public_url=settings.public_url,
    )


def open_registry_warning(home_guild_ids: frozenset[int], servers: int) -> str | None:
    """What to tell the operator when, with no home server set, moderators of several
    servers share the model registry (and early access, and campaigns for any model)."""
    if home_guild_ids or servers <= 1:
        return None
    return (
        f"Atelier is in {servers} servers and ATELIER_HOME_GUILD_IDS is empty: moderators of "
        "every one of them can change the model registry, start campaigns for any model and "
        "use early-access versions; set it to your community's server id"
    )


class AtelierBot(commands.AutoShardedBot):
    def __init__(
        self,
        settings: Settings,
        *,
        backend_factory: BackendFactory,
        tuning: Tuning,
        clock: Callable[[], datetime],
        intake: ImageIntake | None = None,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            help_command=None,
            tree_cls=AtelierTree,
            # Member-written text (prompts, themes, titles) is echoed in public messages: by
            # default nothing in a message notifies anyone. Where the bot itself names a
            # job's owner to tell them, it allows that one user (``owner_only``).
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self._backend_factory = backend_factory
        self._tuning = tuning
        self._clock = clock
        #: Fetches and checks the images members give (built in ``setup_hook`` unless a
        #: test gives one that trusts its own server).
        self.intake = intake
        self.db: Database | None = None
        self.pool: WorkerPool | None = None
        self._imagine: ImagineCog | None = None
        self._studio: Studio | None = None
        self._warm_up: asyncio.Task[None] | None = None
        self._warned_open_registry = False
        self.phases = PhaseTimer(clock)
        self.web: WebServer | None = None
        #: Extra routes and middlewares for the web studio (health, metrics), added before
        #: ``setup_hook`` builds it.
        self.web_routes: list[web.AbstractRouteDef] = []
        self.web_middlewares: list[Middleware] = []
        self._names_seen: dict[int, str] = {}
        #: Set once Discord accepted the login (discord.py then runs ``setup_hook``): the
        #: login's time limit covers Discord's answer, not Atelier's own set-up after it.
        self.logged_in = asyncio.Event()

    async def setup_hook(self) -> None:
        self.logged_in.set()
        settings = self.settings
        self.db = db = await Database.open(settings.database_path)
        # The registry owns what a model name means: configured models become versions (so
        # existing installs keep working) and the configured default its default model; the
        # pool asks it for the version each job names, also for the jobs it recovers.
        configured = configured_models(settings.models, settings.model, settings.loras)
        await enter_configured(
            db, configured, self._clock(), fetch_hub=hub_file, hub_cached=cached_hub_file
        )
        models = RegisteredModels(db, configured.default)
        pool_config = settings.pool_config(resolve_devices(settings.devices))
        in_force = await queue_limits_in_force(db, settings.queue_limits())
        pool_config = dataclasses.replace(pool_config, limits=in_force.limits)
        self.pool = pool = WorkerPool(
            db,
            models,
            pool_config,
            settings.images_dir,
            backend_factory=self._backend_factory,
            # sent to remote workers: only the precision setting goes with it
            remote_factory=diffusers_factory(settings.dtype, settings.ip_adapter_ref()),
            clock=self._clock,
        )
        recovered = await pool.start()
        if self.intake is None:
            self.intake = ImageIntake(settings.intake_limits())
        self._studio = studio = Studio(
            db,
            pool,
            models,
            StudioConfig(
                defaults=settings.engine_defaults(),
                parse_limits=settings.parse_limits(),
                max_upscale_side=settings.max_upscale_side,
                image_prompts=settings.ip_adapter is not None,
                image_prompt_family=await asyncio.to_thread(ip_adapter_family, settings),
            ),
            images_dir=settings.images_dir,
            clock=self._clock,
            intake=self.intake,
        )
        links = EditorLinks(
            web_secret(settings),
            lifetime=timedelta(minutes=settings.editor_link_minutes),
            clock=self._clock,
        )
        region_editor = RegionEditor(studio, links, settings.public_url)
        resources = Resources(
            db,
            pool,
            studio,
            self._tuning,
            self._clock,
            self.phases,
            UpscaleButtons(),
            cog_settings(settings),
            region_editor,
            hub_file,
        )
        self._imagine = ImagineCog(self, resources)
        for cog in (
            self._imagine,
            PreferencesCog(resources),
            ModelsCog(self, resources),
            AdminCog(resources),
            ContestsCog(self, resources),
            LeaderboardsCog(self, resources),
            FundingCog(self, resources),
        ):
            await self.add_cog(cog)
        self.add_dynamic_items(AtelierButton)
        # The web studio shares this loop and these resources; it only reads, but for the
        # region editor's Submit, which queues a job the imagine cog then shows.
        routes, middlewares = operations(HealthSources(db, pool), metrics=settings.web_metrics)
        self.web = WebServer(
            create_web_app(
                WebContext(
                    db, settings.images_dir, self._clock, settings.public_url, region_editor
                ),
                routes=[*routes, *self.web_routes],
                middlewares=[*middlewares, *self.web_middlewares],
            ),
            host=settings.web_host,
            port=settings.web_port,
        )
        await self.web.start()
        await self._sync_commands()
        await self._imagine.resume(recovered)
        # Contest and campaign phases that fell due while the bot was down, then the timer.
        await self.phases.start()
        self._warm_up = asyncio.create_task(self._warm_default_model(), name="warm-up")

    async def on_ready(self) -> None:
        self._warn_if_registry_open()

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Two things for every interaction:

        - a button press or form submission nothing handles (a stale message's, a forged
          one's) gets the same answer as a stale id that something does handle, instead of
          Discord's "This interaction failed";
        - the name each member goes by across Discord (their global display name, else their
          username; never a server nickname) is remembered for the web pages (which cannot
          ask Discord): written when it first appears or changes, not on every press.
        """
        if interaction.type in (
            discord.InteractionType.component,
            discord.InteractionType.modal_submit,
        ) and not claimed(self, interaction, (FORM_PREFIX, PROMPT_FORM_PREFIX)):
            await handle_error(interaction, StaleCustomId())
        user = interaction.user
        # Never the server nickname (display_name): the web shows the name to every
        # server's visitors, and a nickname may come from a server whose gallery is off.
        name = user.global_name or user.name
        if self.db is None or self._names_seen.get(user.id) == name:
            return
        await remember_name(self.db, user.id, name, self._clock())
        self._names_seen[user.id] = name

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self._warn_if_registry_open()

    def _warn_if_registry_open(self) -> None:
        """Tell the operator once per run when the registry is open to every server."""
        warning = open_registry_warning(self.settings.home_guild_ids, len(self.guilds))
        if warning is not None and not self._warned_open_registry:
            self._warned_open_registry = True
            log.warning(warning)

    async def _sync_commands(self) -> None:
        guild_id = self.settings.dev_guild_id
        if guild_id is None:
            synced = await self.tree.sync()
            log.info("synced %d slash commands globally (may take a while to show)", len(synced))
            return
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d slash commands to server %d", len(synced), guild_id)

    async def _warm_default_model(self) -> None:
        """Load the default model on every device now, so the first /imagine is quick."""
        assert self.pool is not None
        assert self._studio is not None
        try:
            # The version /imagine without --model gives a member (not a moderator).
            default = await self._studio.model_for(0, None)
            await self.pool.warm_up(default)
        except StudioError as error:
            log.error("the default model cannot be used: %s", error)
        except ModelLoadError as error:
            log.error("the default model could not be loaded: %s", error)

    async def close(self) -> None:
        """Stop taking jobs, let running ones finish (within the pool's grace), deliver what
        finished, then disconnect and close the database."""
        self.phases.stop()
        if self._warm_up is not None:
            self._warm_up.cancel()
        if self.pool is not None:
            await self.pool.shutdown()
        if self._imagine is not None:
            await self._imagine.deliveries.wait_idle(within=_DELIVERY_GRACE_SECONDS)
        await super().close()
        if self.web is not None:
            await self.web.stop()
        if self.intake is not None:
            await self.intake.aclose()
        if self.db is not None:
            await self.db.close()


def create_bot(
    settings: Settings,
    *,
    backend_factory: BackendFactory | None = None,
    tuning: Tuning | None = None,
    clock: Callable[[], datetime] = utc_now,
    intake: ImageIntake | None = None,
) -> AtelierBot:
    """The bot, pointed at ``settings.discord_api_base`` and ``discord_gateway_url``;
    ``intake``: how it fetches and checks members' images (by default, as
    ``settings.intake_limits()`` say).

    discord.py keeps both addresses in class attributes, so they are set here for the
    whole process (one bot per process, or tests that point every bot at one stand-in).
    """
    # Atelier never joins voice channels: no warnings about voice libraries it does not need.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    discord.http.Route.BASE = settings.discord_api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)
    return AtelierBot(
        settings,
        backend_factory=backend_factory
        or diffusers_factory(settings.dtype, settings.ip_adapter_ref()),
        tuning=tuning or Tuning(),
        clock=clock,
        intake=intake,
    )


class DiscordTimeoutError(Exception):
    """Discord did not answer in time (``ATELIER_DISCORD_TIMEOUT_SECONDS``)."""


class DiscordAddressError(Exception):
    """Discord's address answered the login with an HTTP error other than a refused token
    (a 404 from a wrong ``ATELIER_DISCORD_API_BASE`` path, a proxy's 502)."""


async def run_bot(settings: Settings, token: str) -> None:
    """Run until SIGTERM/SIGINT (or a fatal error), then shut down gracefully.

    Raises DiscordAddressError if the login is answered with an HTTP error (not a refused
    token), DiscordTimeoutError if logging in, or then connecting to the gateway, takes
    longer than ``settings.discord_timeout_seconds``. A signal while it is still connecting
    stops it at once, without an error.
    """
    bot = create_bot(settings)
    freeze_start_up_objects()
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[None]] = []

    def stop() -> None:
        if not stopping:
            log.info(
                "shutting down: running jobs get %gs to finish", settings.shutdown_grace_seconds
            )
            stopping.append(loop.create_task(bot.close()))

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    try:
        async with bot:
            try:
                await start_within_limits(bot, token, settings)
            except Exception:
                if not stopping:  # not the connection that stop() closed under it
                    raise
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        if stopping:
            await stopping[0]


async def _answered_within(
    work: asyncio.Task[None], answered: Coroutine[Any, Any, Any], limit: float, late: str
) -> None:
    """Wait until ``answered`` completes or ``work`` ends, at most ``limit`` seconds;
    past it, stop ``work`` and raise DiscordTimeoutError(``late``). ``work`` itself goes on
    without a limit (its own result is awaited by the caller)."""
    answer = asyncio.ensure_future(answered)
    done, _ = await asyncio.wait({work, answer}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    answer.cancel()
    if not done:
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        raise DiscordTimeoutError(late)


async def start_within_limits(bot: AtelierBot, token: str, settings: Settings) -> None:
    """``bot.start``, with a time limit on logging in and on then becoming ready: an
    address that accepts connections and never answers would otherwise keep it silent
    for minutes (discord.py's requests have no overall timeout)."""
    timeout = settings.discord_timeout_seconds
    advice = "check the network, or raise ATELIER_DISCORD_TIMEOUT_SECONDS"
    # discord.py's login runs ``setup_hook`` (database, configured models' hashes, pool,
    # web server) once Discord answered: only the wait for that answer is limited.
    login = asyncio.create_task(bot.login(token), name="discord-login")
    await _answered_within(
        login,
        bot.logged_in.wait(),
        timeout,
        f"Discord did not answer within {timeout:g}s when logging in at "
        f"{settings.discord_api_base}; {advice}",
    )
    try:
        await login
    except discord.HTTPException as error:
        if bot.logged_in.is_set():  # Atelier's own set-up asked Discord something
            raise
        raise DiscordAddressError(
            f"Discord at {settings.discord_api_base} answered {error.status} when logging in; "
            "check ATELIER_DISCORD_API_BASE"
        ) from None
    connection = asyncio.create_task(bot.connect(), name="discord-connection")
    await _answered_within(
        connection,
        bot.wait_until_ready(),
        timeout,
        f"Discord's gateway did not let the bot connect within {timeout:g}s "
        f"({settings.discord_gateway_url}); {advice}",
    )
    await connection
