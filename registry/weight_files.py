"""What a weights file is, read without torch: its SHA-256 (the hash model sites know it by)
and, for a LoRA, its format and the base family it was trained for; for a checkpoint (a
weights file, a diffusers folder or a hub model already in the hub cache), its family.

A ``.safetensors`` file starts with an 8-byte little-endian length and that many bytes of
JSON naming every tensor with its shape, so a LoRA is recognised from its header alone.
Blocking file work: call these off the event loop. A LoRA on the Hugging Face hub is read
the same way once a :data:`HubFetch` (``bot/`` passes ``inference.hub_files.hub_file``)
has made it a local file: the registry itself reaches no network.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.errors import RegistryError
from registry.sources import is_hub_id

#: LoRA headers are a few hundred kilobytes; a bigger one is no LoRA we read.
MAX_HEADER_BYTES = 16 * 2**20
#: A1111 and model sites show a file's SHA-256 cut to its first ten hex digits.
SHORT_HASH_CHARS = 10

#: kohya/A1111 (``lora_unet_…``, ``lora_te_…``) and diffusers/PEFT (``…lora_A.weight``,
#: ``…lora.down.weight``, ``…to_k_lora.down.weight``) key endings.
_KOHYA = re.compile(r"^lora_(unet|te[12]?)_.+\.lora_(down|up)\.weight$")
_DIFFUSERS = re.compile(
    r"^(unet|text_encoder(_2)?|transformer)\..+"
    r"(\.lora_[AB]\.weight|\.lora\.(down|up)\.weight|_lora\.(down|up)\.weight"
    r"|\.lora_linear_layer\.(down|up)\.weight)$"
)
#: The "down" matrix of a cross-attention key projection: its input width is the width of
#: the text encoder's output the UNet was trained with, which tells the family apart.
_CROSS_ATTENTION_DOWN = re.compile(
    r"attn2[._]to_k(\.lora_A|\.lora\.down|_lora\.down|\.lora_down|\.lora_linear_layer\.down)"
    r"\.weight$"
)
_FAMILY_BY_CONTEXT_WIDTH = {768: "sd1", 1024: "sd2", 2048: "sdxl"}
#: A checkpoint's cross-attention key projection (``[out, context width]``), in the
#: original (``model.diffusion_model.…attn2.to_k.weight``) and diffusers layouts.
_CHECKPOINT_CROSS_ATTENTION = re.compile(r"(^|\.)attn2\.to_k\.weight$")
#: Only SDXL checkpoints have a second text encoder.
_SDXL_CHECKPOINT_PREFIX = "conditioner.embedders.1."
_UNET_CONFIG = "unet/config.json"
_MAX_CONFIG_BYTES = 2**20
_SDXL_ONLY_PREFIXES = ("lora_te1_", "lora_te2_", "text_encoder_2.", "lora_unet_input_blocks_")
FAMILY_NAMES = {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL"}


def family_of_context_width(width: int) -> str:
    """The family whose UNet takes text-encoder output ``width`` wide (``other`` for a
    width no published family has, e.g. a test model's)."""
    return _FAMILY_BY_CONTEXT_WIDTH.get(width, "other")


#: ``(repo_id, filename)`` → the local copy of that file of a hub repository (downloaded into
#: the hub cache if need be); a UserFacingError saying why when it cannot be had. Blocking.
HubFetch = Callable[[str, str], Path]
#: ``(repo_id, filename)`` → the local copy of that file of a hub repository if the hub cache
#: already holds it, else None: never downloads (``bot/`` passes
#: ``inference.hub_files.cached_hub_file``). Blocking.
HubCached = Callable[[str, str], Path | None]


@dataclass(frozen=True)
class LoraFacts:
    """What a LoRA file's header says: ``kohya`` or ``diffusers`` format, and the family it
    was trained for (None when its shapes match no known family, e.g. a test model's)."""

    format: str
    family: str | None


def not_a_lora(source: str) -> RegistryError:
    """One refusal for a file that is missing, unreadable or not a LoRA, so the answer says
    nothing about what else exists on the bot's machine."""
    return RegistryError(
        f"`{source[:120]}` is not a LoRA file the bot can use: give a .safetensors LoRA "
        "(diffusers/PEFT or kohya/A1111 format) on the bot's machine, or a hub id with the "
        "file name in its repository"
    )


def inspect_lora(path: Path, source: str) -> LoraFacts:
    """The facts of the LoRA at ``path`` (``source`` as the moderator wrote it, for the
    message); RegistryError if it is not one."""
    header = _safetensors_header(path)
    if header is None:
        raise not_a_lora(source)
    keys = [key for key in header if key != "__metadata__"]
    if any(_KOHYA.match(key) for key in keys):
        kind = "kohya"
    elif any(_DIFFUSERS.match(key) for key in keys):
        kind = "diffusers"
    else:
        raise not_a_lora(source)
    return LoraFacts(kind, _family(header, keys))


def check_lora_family(facts: LoraFacts, declared: str, source: str) -> str:
    """The family to record: the declared one, refused if the file says otherwise; with
    ``other`` declared, what the file says (if it says anything)."""
    if facts.family is None:
        return declared
    if declared == "other":
        return facts.family
    if declared != facts.family:
        found = FAMILY_NAMES.get(facts.family, facts.family)
        raise RegistryError(
            f"`{source[:120]}` is a LoRA for {found} (family `{facts.family}`), not for "
            f"`{declared}`; register it with family `{facts.family}`"
        )
    return declared


def checkpoint_family(source: str, hub_cached: HubCached | None = None) -> str:
    """The family of the checkpoint ``source`` names, as its files say, read cheaply and
    offline: a ``.safetensors`` file by its header (its UNet's cross-attention width, or
    SDXL's second text encoder), a diffusers folder or a hub model (only when its files are
    already in the hub cache, read through ``hub_cached``) by its UNet's
    ``cross_attention_dim``; ``other`` (unknown) for anything else, e.g. a ``.ckpt`` or a
    test model. Blocking."""
    path = Path(source).expanduser()
    if path.is_file():
        header = _safetensors_header(path)
        return "other" if header is None else _checkpoint_family(header)
    if path.is_dir():
        return _unet_config_family(path / _UNET_CONFIG)
    if hub_cached is None or not is_hub_id(source):
        return "other"
    cached = hub_cached(source, _UNET_CONFIG)
    return "other" if cached is None else _unet_config_family(cached)


def file_sha256(path: Path) -> str:
    """The file's SHA-256 in hex, read in blocks (checkpoints run to gigabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def short_hash(sha256: str | None) -> str | None:
    """The short form model sites and A1111's ``Model hash`` use."""
    return None if sha256 is None else sha256[:SHORT_HASH_CHARS]


def _safetensors_header(path: Path) -> dict[str, object] | None:
    if path.suffix.lower() != ".safetensors":
        return None
    try:
        with path.open("rb") as file:
            prefix = file.read(8)
            if len(prefix) != 8:
                return None
            (length,) = struct.unpack("<Q", prefix)
            if not 2 <= length <= MAX_HEADER_BYTES:
                return None
            header = json.loads(file.read(length))
    except (OSError, ValueError):
        return None
    return header if isinstance(header, dict) else None


def _checkpoint_family(header: dict[str, object]) -> str:
    if any(key.startswith(_SDXL_CHECKPOINT_PREFIX) for key in header):
        return "sdxl"
    for key, entry in header.items():
        if not _CHECKPOINT_CROSS_ATTENTION.search(key) or not isinstance(entry, dict):
            continue
        shape = entry.get("shape")
        if isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int):
            return family_of_context_width(shape[1])
    return "other"


def _unet_config_family(config_file: Path) -> str:
    try:
        with config_file.open("rb") as file:
            config = json.loads(file.read(_MAX_CONFIG_BYTES))  # a longer one: cut, no JSON
    except (OSError, ValueError):
        return "other"
    width = config.get("cross_attention_dim") if isinstance(config, dict) else None
    if isinstance(width, list) and width and all(w == width[0] for w in width):
        width = width[0]  # given per block, the same for every block
    if not isinstance(width, int) or isinstance(width, bool):
        return "other"
    return family_of_context_width(width)


def _family(header: dict[str, object], keys: list[str]) -> str | None:
    if any(key.startswith(_SDXL_ONLY_PREFIXES) for key in keys):
        return "sdxl"
    for key in keys:
        if not _CROSS_ATTENTION_DOWN.search(key):
            continue
        entry = header[key]
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if isinstance(shape, list) and len(shape) == 2 and isinstance(shape[1], int):
            return _FAMILY_BY_CONTEXT_WIDTH.get(shape[1])
    return None
