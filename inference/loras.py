"""LoRAs on a loaded pipeline: read once per device and kept, switched per batch.

Each LoRA version becomes a named PEFT adapter in the pipeline's UNet and text encoder(s)
the first time a batch needs it. For a batch, exactly that batch's adapters are switched
on at its weights; afterwards every adapter is switched off again, so the next batch — a
plain one included — runs on the base weights as if no LoRA had ever been loaded (a
disabled adapter is skipped in the forward pass, so the pixels are bit-identical).
Loaded adapters are parameters of the pipeline's networks, so they count in the device's
VRAM budget like the model's own weights. Before a LoRA is read, its file's size is made
room for: this pipeline's least recently used adapters are unloaded first (never one the
same batch uses), then (through the worker's :class:`Room`) the least recently used other
models. At most ``max_loaded`` adapters stay loaded whatever the budget (each one slows
PEFT's layer dispatch a little), unless one batch uses more.
A file is loaded only if its SHA-256 is still the one recorded when the LoRA was
registered (a file changed since fails the job; its hash is read once per file and kept
while the file's size and modification time stay the same).
Only the owning worker thread may call these methods.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from core.errors import UserFacingError
from inference.hub_files import hub_file
from inference.jobs import LoraUse

log = logging.getLogger(__name__)

#: Adapters kept loaded per pipeline (a LoRA is 10–200 MB), however much the budget allows.
MAX_LOADED_LORAS = 8


@runtime_checkable
class Room(Protocol):
    """The VRAM budget of the device a pipeline is on, as the worker's model cache keeps it."""

    def __call__(self, needed: int) -> None:
        """Unload models other than this one, least recently used first, until ``needed``
        more bytes fit (or none is left)."""

    def fits(self, needed: int) -> bool:
        """Whether ``needed`` more bytes fit the budget beside everything loaded."""


class LoraLoadError(UserFacingError):
    """A LoRA's weights could not be read (a hub file that cannot be fetched, a file that
    was changed on disk since it was registered)."""


class FileHashes:
    """Files' SHA-256, each read once and kept while the file's size and modification time
    stay the same (a worker checks a LoRA every time it loads it, after an unload too)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in self._known:
            digest = hashlib.sha256()
            with path.open("rb") as file:
                while block := file.read(2**20):
                    digest.update(block)
            self._known[key] = digest.hexdigest()
        return self._known[key]


def adapter_name(key: str) -> str:
    """A PEFT adapter name for a version key: module paths must not contain ``.`` or ``:``,
    and two keys must never share a name."""
    return "lora_" + hashlib.sha256(key.encode()).hexdigest()[:16]


class LoadedLoras:
    def __init__(
        self,
        pipe: Any,
        max_loaded: int = MAX_LOADED_LORAS,
        room: Room | None = None,
        hashes: FileHashes | None = None,
    ) -> None:
        self._pipe = pipe
        self._max_loaded = max_loaded
        self._room = room  # None: no budget (a backend loaded outside a worker)
        self._hashes = hashes or FileHashes()
        self._names: OrderedDict[str, None] = OrderedDict()  # adapter names, LRU first

    @property
    def loaded(self) -> list[str]:
        """Adapter names, least recently used first."""
        return list(self._names)

    @contextmanager
    def active(self, loras: Sequence[LoraUse]) -> Iterator[None]:
        """Switch on exactly ``loras`` at their weights for the body, and all off after."""
        if not loras:
            yield
            return
        batch = {adapter_name(lora.key) for lora in loras}  # never evicted for each other
        names = [self._ensure_loaded(lora, batch) for lora in loras]
        try:
            self._pipe.enable_lora()
            self._pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
            yield
        finally:
            self._pipe.disable_lora()

    def _ensure_loaded(self, lora: LoraUse, keep: set[str]) -> str:
        """Load ``lora`` unless it is loaded; ``keep``: the batch's adapters, which stay."""
        name = adapter_name(lora.key)
        if name in self._names:
            self._names.move_to_end(name)
            return name
        while len(self._names) >= self._max_loaded and self._unload_oldest(keep):
            pass
        try:
            path = _weights_file(lora)
            if lora.sha256 is not None and self._hashes.sha256(path) != lora.sha256:
                raise LoraLoadError(
                    f"the LoRA `{lora.key}` was not loaded: its file has changed since it was "
                    "registered (its SHA-256 is not the one recorded); put the registered file "
                    "back, or register the new one as a new version (one of ATELIER_LORAS "
                    "becomes one at the next start)"
                )
            self._make_room(path.stat().st_size, keep)
            with warnings.catch_warnings():
                # PEFT warns on every adapter after the first; several are what this is for.
                warnings.filterwarnings("ignore", message="Already found a `peft_config`")
                self._pipe.load_lora_weights(str(path), adapter_name=name)
        except LoraLoadError:
            raise
        except Exception as error:
            log.debug("loading LoRA %s failed", lora.key, exc_info=True)
            gist = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            raise LoraLoadError(f"the LoRA `{lora.key}` could not be loaded: {gist}") from error
        # A freshly loaded adapter is active: keep every adapter off outside a batch.
        self._pipe.disable_lora()
        self._names[name] = None
        log.info("loaded LoRA %s as %s", lora.key, name)
        return name

    def _make_room(self, needed: int, keep: set[str]) -> None:
        """This pipeline's least recently used adapters outside ``keep`` go first, then
        other models (the Room loads anyway, with a warning, when nothing is left)."""
        if self._room is None:
            return
        while not self._room.fits(needed) and self._unload_oldest(keep):
            pass
        self._room(needed)

    def _unload_oldest(self, keep: set[str]) -> bool:
        """Unload the least recently used adapter not in ``keep``; False if there is none."""
        oldest = next((name for name in self._names if name not in keep), None)
        if oldest is None:
            return False
        del self._names[oldest]
        self._pipe.delete_adapters([oldest])
        log.info("unloaded LoRA adapter %s to make room", oldest)
        return True


def _weights_file(lora: LoraUse) -> Path:
    """The LoRA's file on this machine: a local file, or a hub file fetched into the cache
    (what ``load_lora_weights`` would fetch itself), so its size and hash are known before
    loading."""
    if lora.weight_name is None:
        return Path(lora.source).expanduser()
    return hub_file(lora.source, lora.weight_name)
