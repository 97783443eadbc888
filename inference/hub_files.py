"""One file of a Hugging Face hub repository as a file on this machine: a hub LoRA is read
through it when it is registered (to check what it is and hash it) and when a worker loads
it. ``huggingface_hub`` downloads it into its cache once (``HF_HOME``/``HF_HUB_CACHE``);
with ``HF_HUB_OFFLINE=1`` only the cache is read. Blocking: call it off the event loop.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import UserFacingError


class HubFileError(UserFacingError):
    """A hub file that cannot be had; the text says which and why."""


def hub_file(repo_id: str, filename: str) -> Path:
    """The local copy of ``filename`` in the hub repository ``repo_id`` (its main revision),
    downloaded into the hub cache unless it is there; HubFileError saying why otherwise."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
    )

    where = f"hf://{repo_id}/{filename}"[:200]
    try:
        return Path(hf_hub_download(repo_id, filename))
    except GatedRepoError:
        reason = f"`{repo_id}` is gated on the hub: accept its terms and give the bot a token"
    except RepositoryNotFoundError:
        reason = f"there is no repository `{repo_id}` on the hub (or it is private)"
    except RemoteEntryNotFoundError:
        reason = f"`{repo_id}` has no file `{filename}` on the hub"
    except LocalEntryNotFoundError:
        reason = (
            "it is not in the Hugging Face cache and HF_HUB_OFFLINE is set; download it once "
            "with a network"
            if constants.HF_HUB_OFFLINE
            else "it is not in the Hugging Face cache and the hub cannot be reached"
        )
    except HFValidationError:
        reason = "that is not a hub repository id and file name"
    except OSError as error:  # any other answer of the hub, or the cache's disk
        gist = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        reason = f"it could not be downloaded ({gist})"
    raise HubFileError(f"`{where}` cannot be read: {reason}")


def cached_hub_file(repo_id: str, filename: str) -> Path | None:
    """The local copy of ``filename`` in the hub repository ``repo_id`` if the hub cache
    already holds it (its main revision), else None; never reaches the hub (start-up reads a
    configured hub model's UNet config through it, to know its family)."""
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        found = try_to_load_from_cache(repo_id, filename)
    except HFValidationError:
        return None
    return Path(found) if isinstance(found, str) else None
