"""What a moderator may register as a model version's source, checked for what it is.

A source is a hub id (``org/model``), a diffusers model folder (it holds
``model_index.json``) or a single ``.safetensors``/``.ckpt`` weights file on the bot's
machine. A local path is accepted only when it *is* one of those, judged by its
contents, and every refusal says the same words whatever the path is — missing, a
folder that is not a model, ``/etc/passwd`` — so the answers tell a moderator nothing
about the bot's machine beyond "this is a model Atelier can load".

Other kinds of source (LoRA files, say) extend ``SOURCE_CHECKS``: each check takes the
path (which exists) and answers whether it is a source of its kind.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

from registry.errors import RegistryError
from registry.fields import check_source

#: ``org/model`` as the Hugging Face hub writes repository ids.
_HUB_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?/[A-Za-z0-9._-]{1,96}")
#: Reading more than this to tell a file's kind means it is not what it claims to be.
_MAX_INDEX_BYTES = 1 << 20
_MAX_SAFETENSORS_HEADER = 100 << 20
#: How one string names a file in a hub repository: ``hf://org/repo/path/in/repo``.
HUB_FILE_PREFIX = "hf://"


def is_hub_id(source: str) -> bool:
    """``org/model`` as written, not a weights file's name (``dir/x.safetensors`` is a path)."""
    return (
        bool(_HUB_ID.fullmatch(source))
        and ".." not in source
        and not source.lower().endswith((".safetensors", ".ckpt"))
    )


def split_hub_file(source: str) -> tuple[str, str] | None:
    """``hf://org/repo/path/in/repo.safetensors`` → ``("org/repo", "path/in/repo.safetensors")``:
    how a LoRA file in a hub repository is written where one string names it
    (``ATELIER_LORAS``, ``/models add``'s source); None for anything not written with
    ``hf://``; RegistryError for an ``hf://`` source that names no file of a repository."""
    if not source.startswith(HUB_FILE_PREFIX):
        return None
    org, _, rest = source.removeprefix(HUB_FILE_PREFIX).partition("/")
    repo, _, filename = rest.partition("/")
    repo_id = f"{org}/{repo}"
    parts = filename.split("/")
    if not is_hub_id(repo_id) or not filename or any(part in ("", ".", "..") for part in parts):
        raise RegistryError(
            f"`{source[:120]}` names no file in a hub repository: write "
            "`hf://org/repo/file.safetensors` (the file's path inside the repository)"
        )
    return repo_id, filename


def hub_file_text(repo_id: str, filename: str) -> str:
    """The ``hf://`` form of a file of a hub repository, for messages and listings."""
    return f"{HUB_FILE_PREFIX}{repo_id}/{filename}"


def is_diffusers_folder(path: Path) -> bool:
    """A folder whose ``model_index.json`` is a JSON object (what diffusers loads from)."""
    index = path / "model_index.json"
    try:
        if not path.is_dir() or not index.is_file() or index.stat().st_size > _MAX_INDEX_BYTES:
            return False
        return isinstance(json.loads(index.read_bytes()), dict)
    except (OSError, ValueError):
        return False


def is_weights_file(path: Path) -> bool:
    """A ``.safetensors`` file (an 8-byte header length, then a JSON header) or a ``.ckpt``
    file (a PyTorch zip archive or a pickle)."""
    suffix = path.suffix.lower()
    try:
        if not path.is_file() or suffix not in (".safetensors", ".ckpt"):
            return False
        with path.open("rb") as file:
            start = file.read(9)
    except OSError:
        return False
    if suffix == ".ckpt":
        return start.startswith(b"PK\x03\x04") or start[:1] == b"\x80"
    if len(start) < 9:
        return False
    (header_length,) = struct.unpack("<Q", start[:8])
    return 2 <= header_length <= _MAX_SAFETENSORS_HEADER and start[8:9] == b"{"


#: The kinds of local source a model version may have.
SOURCE_CHECKS: Sequence[Callable[[Path], bool]] = (is_diffusers_folder, is_weights_file)


def check_model_source(
    source: str, checks: Sequence[Callable[[Path], bool]] = SOURCE_CHECKS
) -> str:
    """The source, stripped, if it is a hub id or a local path that one of ``checks``
    accepts; RegistryError in the same words otherwise. Whether a source is a hub id is
    decided by how it is written alone (``org/model``), never by looking at the disk: were
    an ``org/model`` that exists as a relative path judged as that path, the answer would
    tell whether it exists. Local sources are written as paths (``/…``, ``./…``, ``~/…``)."""
    source = check_source(source)
    if is_hub_id(source):
        return source
    path = Path(source).expanduser()
    try:
        exists = path.exists()
    except (OSError, ValueError):  # e.g. a NUL character
        exists = False
    if exists and any(check(path) for check in checks):
        return source
    raise RegistryError(
        f"`{source[:80]}` is not a model Atelier can use: give a hub id such as "
        "`org/model`, or the path of a diffusers model folder (with model_index.json) or "
        "of a .safetensors/.ckpt file on the bot's machine"
    )
