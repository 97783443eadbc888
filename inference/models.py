"""Models as the engine sees them: a name and where the weights come from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

SINGLE_FILE_SUFFIXES = (".safetensors", ".ckpt")


@dataclass(frozen=True)
class ModelRef:
    """A model's public name and where its weights come from."""

    name: str
    source: str  # hub id, local diffusers folder, or single .safetensors/.ckpt file
    inpainting: bool = False  # a dedicated inpainting checkpoint (9-channel UNet)

    @property
    def source_kind(self) -> str:
        return source_kind(self.source)


def source_kind(source: str) -> str:
    """``folder``, ``file``, ``missing path`` or ``hub id``: how a source will be loaded."""
    path = Path(source).expanduser()
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "file"
    if looks_like_path(source):
        return "missing path"
    return "hub id"


def looks_like_path(source: str) -> bool:
    """Whether the operator meant a local path (so a missing one is an error, not a hub id)."""
    return (
        source.startswith((".", "/", "~"))
        or source.lower().endswith(SINGLE_FILE_SUFFIXES)
        or source.count("/") != 1
    )


class ModelSources(Protocol):
    """What the model a job names is: the worker pool asks for every job it queues, also for
    the jobs it takes over after a restart. The bot and the CLI answer from the model
    registry (``studio.models.RegisteredModels``), which owns what a model name means."""

    async def find(self, name: str) -> ModelRef | None:
        """The model ``name`` stands for, or None if it names none the pool may run."""
        ...


#: Where an IP-Adapter's image encoder is looked for when none is configured: a folder of
#: this name beside the adapter's file (the layout of h94/IP-Adapter).
IMAGE_ENCODER_FOLDER = "image_encoder"


@dataclass(frozen=True)
class IpAdapterRef:
    """An IP-Adapter (image prompts, /blend) and its image encoder, as configured.

    ``repo`` is None for a local file (``file`` is then its path), else the hub repository
    and ``file`` the path in it; likewise ``encoder_repo`` and ``encoder_path`` (a local
    folder, or a subfolder of the repository, ``""`` for its root).
    """

    source: str
    repo: str | None
    file: str
    encoder_repo: str | None
    encoder_path: str

    @property
    def encoder_source(self) -> str:
        """The image encoder as an operator would write it."""
        if self.encoder_repo is None:
            return self.encoder_path
        return "/".join(part for part in (self.encoder_repo, self.encoder_path) if part)


def ip_adapter_ref(source: str, image_encoder: str | None = None) -> IpAdapterRef:
    """Where ``source`` (``ATELIER_IP_ADAPTER``) and ``image_encoder``
    (``ATELIER_IP_ADAPTER_IMAGE_ENCODER``) point; raises ValueError when either cannot name
    one. Existence is checked when the adapter is loaded (and by ``atelier check``)."""
    source = source.strip()
    if not source.lower().endswith(".safetensors"):
        raise ValueError(
            f"{source} is not an IP-Adapter .safetensors file; give a local file or a hub "
            "file as org/repo/path/in/repo.safetensors (or hf://org/repo/…), e.g. "
            "h94/IP-Adapter/models/ip-adapter_sd15.safetensors"
        )
    # ``hf://org/repo/file`` as ATELIER_LORAS writes hub files, or plain ``org/repo/file``.
    hub_text = source[len("hf://") :] if source.lower().startswith("hf://") else None
    path = Path(source).expanduser()
    if hub_text is None and (
        path.is_file() or source.startswith((".", "/", "~")) or source.count("/") < 2
    ):
        repo, file = None, str(path)
        encoder_repo, encoder_path = None, str(path.parent / IMAGE_ENCODER_FOLDER)
    else:
        parts = (hub_text or source).split("/")
        repo, file = "/".join(parts[:2]), "/".join(parts[2:])
        encoder_repo = repo
        encoder_path = "/".join([*parts[2:-1], IMAGE_ENCODER_FOLDER])
    if image_encoder is not None and image_encoder.strip():
        encoder_repo, encoder_path = _encoder_location(image_encoder.strip())
    return IpAdapterRef(source, repo, file, encoder_repo, encoder_path)


def _encoder_location(encoder: str) -> tuple[str | None, str]:
    path = Path(encoder).expanduser()
    if path.is_dir() or encoder.startswith((".", "/", "~")) or encoder.count("/") < 1:
        return None, str(path)
    parts = encoder.split("/")
    return "/".join(parts[:2]), "/".join(parts[2:])
