"""Can a configured model be loaded? Answered without loading it (no torch, seconds at most).

A local source must be a diffusers folder (``model_index.json``) or a readable
``.safetensors``/``.ckpt`` file; a hub id must be in the Hugging Face cache or known to the
hub (asked with one short request to ``HF_ENDPOINT``, so a machine without a network is
told so at once instead of failing at the first ``/imagine``).
"""

from __future__ import annotations

import json
import os
import struct
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from inference.models import source_kind

DEFAULT_ENDPOINT = "https://huggingface.co"
#: How long the hub may take to answer whether a model exists.
HUB_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class ModelCheck:
    """What a model's source is (type and size), or why it cannot be loaded."""

    ok: bool
    detail: str


def check_model(source: str, *, hub: bool = True) -> ModelCheck:
    """``source`` judged as the loader will take it; ``hub=False`` skips the network (a hub
    id that is not in the cache then counts as fine: the loader will try the hub)."""
    kind = source_kind(source)
    path = Path(source).expanduser()
    if kind == "folder":
        return _check_folder(path, source)
    if kind == "file":
        return _check_file(path, source)
    if kind == "missing path":
        return ModelCheck(
            False,
            f"{source} does not exist; give a diffusers folder, a .safetensors/.ckpt file "
            "or a hub id (org/model)",
        )
    return _check_hub_id(source, ask_hub=hub)


def _check_folder(path: Path, shown: str) -> ModelCheck:
    index = path / "model_index.json"
    if not index.is_file():
        return ModelCheck(
            False,
            f"{shown} has no model_index.json, so it is not a diffusers folder; point at one "
            "(or at a .safetensors/.ckpt file)",
        )
    try:
        pipeline = json.loads(index.read_text(encoding="utf-8")).get("_class_name", "?")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return ModelCheck(
            False, f"{shown}/model_index.json is not valid JSON; the folder is damaged"
        )
    size = sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return ModelCheck(True, f"folder {shown}: {pipeline}, {readable_size(size)}")


def _check_file(path: Path, shown: str) -> ModelCheck:
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        tensors = _safetensors_tensor_count(path)
        if tensors is None:
            return ModelCheck(False, f"{shown} is not a readable .safetensors file (damaged?)")
        detail = f"file {shown}: single-file checkpoint, {tensors} tensors, {readable_size(size)}"
        return ModelCheck(True, detail)
    if suffix == ".ckpt":
        if not zipfile.is_zipfile(path):
            return ModelCheck(False, f"{shown} is not a readable .ckpt file (damaged?)")
        return ModelCheck(True, f"file {shown}: single-file checkpoint, {readable_size(size)}")
    return ModelCheck(
        False, f"{shown} is not a .safetensors or .ckpt file; give one, or a diffusers folder"
    )


def _safetensors_tensor_count(path: Path) -> int | None:
    """The number of tensors a .safetensors header lists (8-byte length, then JSON)."""
    with path.open("rb") as file:
        head = file.read(8)
        if len(head) < 8:
            return None
        (length,) = struct.unpack("<Q", head)
        if length > 100_000_000:
            return None
        try:
            header = json.loads(file.read(length))
        except (ValueError, UnicodeDecodeError):
            return None
    if not isinstance(header, dict):
        return None
    return len([key for key in header if key != "__metadata__"])


def _check_hub_id(repo: str, *, ask_hub: bool) -> ModelCheck:
    cached = _cached_size(repo)
    if cached is not None:
        return ModelCheck(
            True, f"hub id {repo}: in the Hugging Face cache, {readable_size(cached)}"
        )
    if not ask_hub:
        return ModelCheck(True, f"hub id {repo}: not downloaded yet")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return ModelCheck(
            False,
            f"{repo} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; download it "
            "once with a network, or point at a local folder or file",
        )
    return _ask_hub(repo)


def _cached_size(repo: str) -> int | None:
    """Bytes of ``repo`` in the Hugging Face cache, if a snapshot of it is complete enough
    to load (has ``model_index.json``)."""
    from huggingface_hub import constants

    folder = Path(constants.HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}"
    if not any((folder / "snapshots").glob("*/model_index.json")):
        return None
    return sum(blob.stat().st_size for blob in (folder / "blobs").glob("*") if blob.is_file())


def _ask_hub(repo: str) -> ModelCheck:
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    request = urllib.request.Request(f"{endpoint}/api/models/{repo}")
    from huggingface_hub import get_token  # HF_TOKEN, or the login stored by `hf auth login`

    token = get_token()
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=HUB_TIMEOUT_SECONDS) as response:
            info = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return ModelCheck(False, f"the hub at {endpoint} has no model {repo}; check the id")
        if error.code in (401, 403):
            return ModelCheck(
                False,
                f"{repo} is gated or private on the hub: accept its terms on its page and set "
                "HF_TOKEN, or point at a local folder or file",
            )
        return ModelCheck(False, f"the hub at {endpoint} answered {error.code} for {repo}")
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return ModelCheck(
            False,
            f"{repo} is not in the Hugging Face cache and the hub at {endpoint} cannot be "
            f"reached ({reason}); connect this machine, or point at a local folder or file",
        )
    if not isinstance(info, dict):
        return ModelCheck(False, f"the hub at {endpoint} gave an answer that is not a model's")
    config = info.get("config")
    diffusers = config.get("diffusers") if isinstance(config, dict) else None
    pipeline = diffusers.get("_class_name", "?") if isinstance(diffusers, dict) else "?"
    stored = info.get("usedStorage")
    size = f", {readable_size(stored)} on the hub" if isinstance(stored, int) else ""
    return ModelCheck(True, f"hub id {repo}: {pipeline}{size}, downloaded at first use")


def readable_size(size: int) -> str:
    if size >= 10**9:
        return f"{size / 10**9:.1f} GB"
    if size >= 10**6:
        return f"{size / 10**6:.1f} MB"
    return f"{size / 10**3:.0f} kB"
