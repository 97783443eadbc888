"""Operator settings: environment variables prefixed ``ATELIER_``, also read from ``.env``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.envfile import ENV_FILE, env_file_names, env_file_problems, unknown_names
from inference.jobs import EngineDefaults
from inference.models import IpAdapterRef, ip_adapter_ref
from inference.params import DEFAULT_SAMPLER, SAMPLERS, ParseLimits, canonical_sampler
from inference.pool.config import PoolConfig, RayConfig, UserLimits
from intake.limits import DISCORD_HOSTS, IntakeLimits
from studio.editor_links import MIN_SECRET_BYTES

ENV_PREFIX = "ATELIER_"
DEFAULT_MODEL = "stable-diffusion-v1-5/stable-diffusion-v1-5"
#: A host name as ATELIER_IMAGE_HOSTS lists them: dot-separated labels, no scheme or port.
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
#: One device name, as in ATELIER_DEVICES and `atelier imagine --device`.
DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda:\d+)$")
_SECRET_FIELDS = {"discord_token", "web_secret"}


class SettingsError(Exception):
    """Invalid settings; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )

    discord_token: SecretStr | None = None
    # The default model: a name from `models`, a hub id, a diffusers folder or a single file.
    model: str = DEFAULT_MODEL
    # More models by name, as JSON: {"sd15": "stable-diffusion-v1-5/...", "mine": "./x.safetensors"}
    models: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # LoRAs by name, as JSON: {"pixelart": "./loras/pixelart.safetensors"}; members use them
    # as <lora:pixelart:0.8> in prompts.
    loras: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # How many <lora:…> tags one prompt may carry.
    max_loras_per_job: int = Field(4, ge=0, le=16)
    # The IP-Adapter that image prompts and /blend condition on: a local .safetensors file,
    # or a hub file as org/repo/path/in/repo.safetensors; unset: image prompts are refused.
    ip_adapter: str | None = None
    # Its image encoder (CLIPVisionModelWithProjection): a local folder, org/repo or
    # org/repo/subfolder; unset: the image_encoder folder beside the adapter's file.
    ip_adapter_image_encoder: str | None = None
    data_dir: Path = Path("data")
    # Where the data folder must be: the container image sets its volume, /data, so that a
    # data folder elsewhere (lost with the container) is refused.
    data_volume: Path | None = None
    # auto, cpu, mps, cuda:0,cuda:1…, or none (remote workers only: needs ray_address)
    devices: str = "auto"
    dtype: Literal["auto", "fp16", "bf16", "fp32"] = "auto"
    discord_api_base: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    # How long logging in to Discord, and then connecting to its gateway, may take.
    discord_timeout_seconds: float = Field(30, gt=0, le=600)
    default_steps: int = Field(30, ge=1, le=150)
    default_sampler: str = DEFAULT_SAMPLER
    max_repeat: int = Field(4, ge=1, le=40)
    max_jobs_per_prompt: int = Field(10, ge=1, le=100)
    variation_subtle_strength: float = Field(0.35, gt=0, le=1)
    variation_strong_strength: float = Field(0.7, gt=0, le=1)
    upscale_strength: float = Field(0.3, gt=0, le=1)
    # Upscale (Subtle) and (Creative) under an upscale: 2× again at these strengths.
    upscale_subtle_strength: float = Field(0.2, gt=0, le=1)
    upscale_creative_strength: float = Field(0.5, gt=0, le=1)
    max_running_per_user: int = Field(3, ge=1, le=100)
    max_queued_per_user: int = Field(10, ge=1, le=1000)
    # Images per pipeline call across jobs; auto (None): 16 on GPUs, one job at a time on CPU.
    max_batch_images: int | None = Field(None, ge=1, le=256)
    # GB of model weights each GPU keeps loaded; auto (None): 70 % of its memory.
    vram_budget_gb: float | None = Field(None, gt=0)
    preview_every_steps: int = Field(5, ge=0, le=150)
    shutdown_grace_seconds: float = Field(30, ge=0, le=3600)
    worker_hang_seconds: float = Field(300, ge=5, le=86400)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Sync slash commands to this server only (instant) instead of globally (up to an hour).
    dev_guild_id: int | None = Field(None, gt=0)
    # Upscale 2× is offered while the result's longest side stays within this.
    max_upscale_side: int = Field(2048, ge=128, le=8192)
    # Image prompts by URL: hosts allowed besides Discord's attachment hosts (comma-separated
    # names), and the caps on every image members give (URLs and uploads alike). The pixel
    # cap stays below Pillow's own decompression-bomb warning (89 megapixels).
    image_hosts: Annotated[frozenset[str], NoDecode] = frozenset()
    image_max_mb: float = Field(10, gt=0, le=100)
    image_max_megapixels: float = Field(40, gt=0, le=80)
    image_fetch_seconds: float = Field(15, gt=0, le=120)
    # The operator's servers, whose moderators manage the bot-wide model registry and may
    # use early-access versions; empty: every server the bot is in (one-server installs).
    home_guild_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # The web studio (pages served by the bot's process): where it listens, and the address
    # members reach it at (behind a reverse proxy); with one, Discord messages link to pages.
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)
    public_url: str | None = None
    # /metrics (Prometheus) on the web studio's address; off: it answers 404.
    web_metrics: bool = True
    # Remote workers on a Ray cluster: its address, `auto` (the bot runs on a cluster node)
    # or `local` (a private Ray on this machine); unset: local workers only.
    ray_address: str | None = Field(None, validate_default=True)
    ray_max_workers: int = Field(8, ge=1, le=1024)
    # cpu: each remote worker reserves a CPU instead of a GPU (trying a cluster without GPUs)
    ray_worker_device: Literal["cuda", "cpu"] = "cuda"
    # The key that signs Vary (Region)'s editor links; unset: one generated once and kept in
    # the data folder (web-secret). Several processes serving one site must share it.
    web_secret: SecretStr | None = None
    # How long an editor link from Vary (Region) works.
    editor_link_minutes: int = Field(30, ge=1, le=24 * 60)

    @field_validator(
        "max_batch_images", "vram_budget_gb", "dev_guild_id", "data_volume", mode="before"
    )
    @classmethod
    def _auto_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("auto", ""):
            return None
        return value

    @field_validator("ip_adapter", "ip_adapter_image_encoder", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("ip_adapter")
    @classmethod
    def _check_ip_adapter(cls, value: str | None) -> str | None:
        if value is not None:
            ip_adapter_ref(value)  # a ValueError says what an adapter is written like
        return value

    @field_validator("ray_address")
    @classmethod
    def _check_ray_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        address = (value or "").strip() or None
        if address is None and info.data.get("devices") == "none":
            raise ValueError(
                "ATELIER_DEVICES=none runs jobs on remote workers only: set "
                "ATELIER_RAY_ADDRESS (a Ray cluster address, auto, or local)"
            )
        return address

    @field_validator("devices")
    @classmethod
    def _check_devices(cls, value: str) -> str:
        value = value.strip().lower()
        if value in ("auto", "none"):
            return value
        parts = [part.strip() for part in value.split(",")]
        bad = [part for part in parts if not DEVICE_PATTERN.match(part)]
        if bad or not parts:
            raise ValueError(
                f"{', '.join(bad) or 'nothing'} is not a device; "
                "use auto, cpu, mps, none, or a list such as cuda:0,cuda:1"
            )
        if len(set(parts)) != len(parts):
            raise ValueError("a device is listed twice")
        return ",".join(parts)

    @field_validator("home_guild_ids", mode="before")
    @classmethod
    def _split_guild_ids(cls, value: object) -> object:
        """Comma-separated server ids; each must be a whole positive number."""
        if not isinstance(value, str):
            return value
        parts = [part.strip() for part in value.split(",") if part.strip()]
        bad = [part for part in parts if not (part.isascii() and part.isdigit()) or int(part) == 0]
        if bad:
            named = "is not a server id" if len(bad) == 1 else "are not server ids"
            raise ValueError(
                f"{', '.join(bad)} {named}; give server ids (right-click the "
                "server, Copy Server ID) separated by commas, e.g. 123456789012345678,"
                "234567890123456789, or leave it empty for every server"
            )
        return frozenset(int(part) for part in parts)

    @field_validator("image_hosts", mode="before")
    @classmethod
    def _split_image_hosts(cls, value: object) -> object:
        """Comma-separated host names (no scheme, path or port), compared in lower case."""
        if not isinstance(value, str):
            return value
        hosts = [host.strip().lower().rstrip(".") for host in value.split(",") if host.strip()]
        bad = [host for host in hosts if not HOST_NAME.match(host)]
        if bad:
            raise ValueError(
                f"{', '.join(bad)} is not a host name; give names only, separated by commas, "
                "e.g. i.imgur.com,images.example.org"
            )
        return frozenset(hosts)

    @field_validator("discord_api_base")
    @classmethod
    def _check_api_base(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_gateway(cls, value: str) -> str:
        if not re.match(r"^wss?://[^\s/]+", value):
            raise ValueError("must be a ws(s) URL such as wss://gateway.discord.gg")
        return value.rstrip("/")

    @field_validator("web_host")
    @classmethod
    def _check_web_host(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
        return value.strip()

    @field_validator("public_url", mode="before")
    @classmethod
    def _check_public_url(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        if not re.match(r"^https?://[^\s/]+(/\S*)?$", value.strip()):
            raise ValueError(
                "must be the http(s) address members open, such as https://atelier.example.org"
            )
        return value.strip().rstrip("/")

    @field_validator("web_secret", mode="before")
    @classmethod
    def _check_web_secret(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            if len(value.strip().encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"must be at least {MIN_SECRET_BYTES} characters (e.g. the output of "
                    "`openssl rand -hex 32`), or unset to let Atelier generate one"
                )
            return value.strip()
        return value

    @field_validator("default_sampler")
    @classmethod
    def _check_sampler(cls, value: str) -> str:
        sampler = canonical_sampler(value)
        if sampler is None:
            raise ValueError(f"unknown sampler; choose one of {', '.join(SAMPLERS)}")
        return sampler

    @field_validator("models", "loras", mode="before")
    @classmethod
    def _decode_models(cls, value: object) -> object:
        """JSON is decoded here rather than by the settings source, so a malformed value is
        reported like any other problem instead of hiding the rest."""
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value) if value.strip() else {}
        except json.JSONDecodeError:
            raise ValueError(
                'not valid JSON; expected e.g. {"sd15": "org/model", "mine": "./mine.safetensors"}'
            ) from None

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a model: a hub id, a folder or a .safetensors file")
        return value.strip()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "atelier.db"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    def intake_limits(self) -> IntakeLimits:
        """What image intake accepts: Discord's attachment hosts and the operator's, and the
        caps on each image."""
        return IntakeLimits(
            hosts=DISCORD_HOSTS | self.image_hosts,
            max_bytes=round(self.image_max_mb * 1_000_000),
            max_pixels=round(self.image_max_megapixels * 1_000_000),
            fetch_seconds=self.image_fetch_seconds,
        )

    def engine_defaults(self) -> EngineDefaults:
        return EngineDefaults(
            steps=self.default_steps,
            sampler=self.default_sampler,
            subtle_strength=self.variation_subtle_strength,
            strong_strength=self.variation_strong_strength,
            upscale_strength=self.upscale_strength,
            upscale_subtle_strength=self.upscale_subtle_strength,
            upscale_creative_strength=self.upscale_creative_strength,
        )

    def ip_adapter_ref(self) -> IpAdapterRef | None:
        """The configured IP-Adapter and its image encoder; None: image prompts are refused."""
        if self.ip_adapter is None:
            return None
        return ip_adapter_ref(self.ip_adapter, self.ip_adapter_image_encoder)

    def pool_config(self, devices: list[str]) -> PoolConfig:
        """The worker pool's settings for ``devices`` (already resolved from ``devices``)."""
        return PoolConfig(
            devices=tuple(devices),
            limits=self.queue_limits(),
            max_batch_images=self.max_batch_images,
            vram_budget_gb=self.vram_budget_gb,
            preview_every=self.preview_every_steps,
            shutdown_grace_seconds=self.shutdown_grace_seconds,
            hang_seconds=self.worker_hang_seconds,
            ray=None
            if self.ray_address is None
            else RayConfig(self.ray_address, self.ray_max_workers, self.ray_worker_device),
        )

    def queue_limits(self) -> UserLimits:
        """The operator's per-member limits; ``studio.queue_limits`` says when /admin limits
        stored in the database win over them."""
        return UserLimits(
            max_running=self.max_running_per_user, max_queued=self.max_queued_per_user
        )

    def parse_limits(self) -> ParseLimits:
        return ParseLimits(
            max_repeat=self.max_repeat,
            max_jobs=self.max_jobs_per_prompt,
            max_loras=self.max_loras_per_job,
        )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and ``.env``; ``overrides`` win over both.

    Raises :class:`SettingsError` with one line per problem: a line of ``.env`` that cannot
    be read, an ``ATELIER_*`` name that is not a setting (in ``.env`` or the environment), a
    value that is not accepted. The Discord token's value is never part of a message.
    """
    problems = env_file_problems()
    if problems:
        raise SettingsError(problems)
    known = [f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields]
    found = {str(ENV_FILE): env_file_names(), "environment": list(os.environ)}
    problems = unknown_names(found, ENV_PREFIX, known)
    if problems:
        raise SettingsError(problems)
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError([_describe(problem) for problem in error.errors()]) from None


def _describe(problem: Any) -> str:
    field = str(problem["loc"][0]) if problem["loc"] else "?"
    message = str(problem["msg"]).removeprefix("Value error, ")
    name = f"{ENV_PREFIX}{field.upper()}"
    if field in _SECRET_FIELDS:
        return f"{name}: {message}"
    if len(problem["loc"]) > 1:  # inside a JSON setting: name the entry, then its value
        entry = "".join(f"[{json.dumps(part)}]" for part in problem["loc"][1:])
        return f"{name}{entry}={json.dumps(problem['input'])}: {message}"
    return f"{name}={problem['input']!r}: {message}"
