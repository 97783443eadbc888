"""``atelier check``: everything that can be known without Discord, one line per item.

``atelier run`` runs the same checks before it logs in and refuses to start on any failure,
so a GPU that is not there, a data folder that cannot be written or a model that cannot
be loaded is told at once, in one line each, rather than after connecting (or never, when
Discord cannot be reached). Nothing is written unless every earlier check passed: only
then is the data folder created and the database opened (and migrated).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import sqlite3
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bot.data_folder import (
    DATA_FOLDER_FIX,
    nearest_existing,
    outside_volume_problem,
    writable_problem,
)
from bot.model_checks import check_model, readable_size
from bot.settings import Settings
from core.errors import UserFacingError
from db.database import Database
from db.migrate import MigrationError
from inference.hub_files import hub_file
from inference.pool import ray_env
from registry.configured import configured_models
from registry.versions import (
    ModelKind,
    NewVersion,
    check_new_version,
    lora_file,
    lora_location,
    lora_text,
)
from registry.weight_files import FAMILY_NAMES, HubFetch, inspect_lora, not_a_lora

#: Below this much free space on the data folder's disk, start-up is refused.
MIN_FREE_BYTES = 10**9


class Outcome(Enum):
    PASSED = "✓"
    FAILED = "✗"
    WARNED = "⚠"  # worth fixing, but the bot runs (and ``atelier run`` starts) anyway
    SKIPPED = "–"


@dataclass(frozen=True)
class Check:
    item: str
    outcome: Outcome
    detail: str

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    def line(self) -> str:
        return f"{self.outcome.value} {self.item}: {self.detail}"


def passed(item: str, detail: str) -> Check:
    return Check(item, Outcome.PASSED, detail)


def failed(item: str, detail: str) -> Check:
    return Check(item, Outcome.FAILED, detail)


def warned(item: str, detail: str) -> Check:
    return Check(item, Outcome.WARNED, detail)


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order: devices, the Ray cluster, models, LoRAs, IP-Adapter, disk
    space, data folder, database."""
    checks = [
        *device_checks(settings),
        *cluster_checks(settings),
        *model_checks(settings),
        *lora_checks(settings),
        *ip_adapter_checks(settings),
        disk_check(settings),
    ]
    clean = not any(check.failed for check in checks)
    checks.append(data_folder_check(settings, create=clean))
    if clean and not checks[-1].failed:
        checks.append(asyncio.run(database_check(settings)))
    else:
        checks.append(
            Check("database", Outcome.SKIPPED, "not opened until the problems above are fixed")
        )
    return checks


def device_checks(settings: Settings) -> list[Check]:
    """Each device of ``ATELIER_DEVICES`` exists, takes the precision of ``ATELIER_DTYPE``
    and (for CUDA) really computes."""
    from inference.devices import resolve_devices, resolve_dtype

    try:
        devices = resolve_devices(settings.devices)
    except ValueError as error:
        return [failed("devices", str(error))]
    checks = []
    for device in devices:
        try:
            dtype = resolve_dtype(device, settings.dtype)
        except ValueError as error:
            checks.append(failed(f"device {device}", str(error)))
            continue
        checks.append(_try_device(device, str(dtype).removeprefix("torch.")))
    return checks


def _try_device(device: str, precision: str) -> Check:
    """``device`` after one small computation on it: what it is, or why it fails."""
    import torch

    item = f"device {device}"
    try:
        (torch.ones(1, device=device) + 1).cpu()
    except (RuntimeError, AssertionError) as error:
        first = (str(error).strip() or type(error).__name__).splitlines()[0]
        return failed(
            item,
            f"{device} does not work ({first}); check the driver (nvidia-smi) and, in a "
            "container, that it was started with the GPUs (--gpus all), or use "
            "ATELIER_DEVICES=cpu",
        )
    if device.startswith("cuda"):
        properties = torch.cuda.get_device_properties(device)
        what = f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB"
    else:
        what = "Apple Metal" if device == "mps" else "the CPU"
    return passed(item, f"{what}, {precision}")


#: How long the Ray cluster's head may take to accept a connection.
HEAD_TIMEOUT_S = 3.0


def cluster_checks(settings: Settings) -> list[Check]:
    """With ``ATELIER_RAY_ADDRESS``: Ray is installed, and the cluster's head accepts a
    connection. A head that does not is a warning: the bot starts, its local workers run
    jobs (or jobs wait), and remote workers come when the head answers."""
    address = settings.ray_address
    if address is None:
        return []
    item = "Ray cluster (ATELIER_RAY_ADDRESS)"
    if importlib.util.find_spec("ray") is None:
        return [
            failed(
                item, f"{address} is set, but Ray is not installed: pip install 'atelier[cluster]'"
            )
        ]
    if address == "local":
        return [passed(item, "local: a private Ray starts inside the bot, on this machine only")]
    head = _head_address(address)
    if head is None:
        return [
            warned(
                item,
                f"{address}: no Ray node runs on this machine; join the cluster first "
                "(ray start --address=<head>:6379 --num-gpus=0), see README 'Many GPUs'",
            )
        ]
    endpoint = ray_env.head_endpoint(head)
    if endpoint is None:
        return [failed(item, f"{address} is not a Ray address: use auto, local or host:port")]
    why = ray_env.unreachable(*endpoint, HEAD_TIMEOUT_S)
    shown = address if head == address else f"{address} ({head})"
    if why is not None:
        return [
            warned(
                item,
                f"the head at {shown} cannot be reached ({why}); the bot starts anyway: "
                "local workers (if any) run jobs, the rest wait until the head answers",
            )
        ]
    return [passed(item, f"the head at {shown} accepts connections")]


def _head_address(address: str) -> str | None:
    """``address`` as host:port; ``auto`` is the cluster a Ray node on this machine joined
    (None if none did)."""
    if address != "auto":
        return address
    ray_env.prepare(loopback=False)
    from ray._private.services import canonicalize_bootstrap_address

    try:
        found = canonicalize_bootstrap_address(address)
    except Exception:  # Ray raises ConnectionError, ValueError, … when it finds none
        return None
    return None if found is None else str(found)


def model_checks(settings: Settings, *, hub: bool = True) -> list[Check]:
    """Each configured model can be loaded: found locally, in the cache or (unless ``hub``
    is false) on the hub. The item names the setting that configures it."""
    configured = configured_models(settings.models, settings.model)
    checks = []
    for name, source in configured.sources.items():
        setting = "ATELIER_MODEL" if source == settings.model else f"ATELIER_MODELS[{name!r}]"
        found = check_model(source, hub=hub)
        item = f"model {name} ({setting})"
        checks.append(passed(item, found.detail) if found.ok else failed(item, found.detail))
    return checks


def lora_checks(settings: Settings, fetch_hub: HubFetch = hub_file) -> list[Check]:
    """Each LoRA of ``ATELIER_LORAS`` is a LoRA file the registry accepts, by its header
    only (entering it at start-up hashes the whole file). A hub LoRA is read from the hub
    cache, downloaded into it first if need be (start-up would download it anyway)."""
    models = configured_models(settings.models, settings.model).sources
    checks = []
    for key, text in settings.loras.items():
        name = key.strip().lower()
        item = f"LoRA {name} (ATELIER_LORAS[{json.dumps(key)}])"
        if name in models:
            checks.append(failed(item, f"{name} is also a configured model; give it another name"))
            continue
        try:
            source, weight_name = lora_location(text)
            lora = NewVersion(
                name, "1", source, "other", kind=ModelKind.LORA, weight_name=weight_name
            )
            check_new_version(lora)
            path = lora_file(source, weight_name, fetch_hub)
            facts = inspect_lora(path, lora_text(source, weight_name))
        except UserFacingError as error:
            checks.append(failed(item, _lora_refusal(text, error)))
            continue
        family = FAMILY_NAMES.get(facts.family, facts.family) if facts.family else "any family"
        size = readable_size(path.stat().st_size)
        checks.append(passed(item, f"{facts.format} LoRA for {family}, {size} ({path})"))
    return checks


def _lora_refusal(text: str, error: UserFacingError) -> str:
    """The registry's refusal of a configured LoRA, in the operator's words."""
    if str(error) == str(not_a_lora(text.strip())):  # worded for /models add: say ours
        return (
            f"{text} is not a LoRA file: give the path of a .safetensors LoRA (diffusers/PEFT "
            "or kohya/A1111 format) on this machine, or hf://org/repo/file.safetensors for "
            "one in a Hugging Face hub repository"
        )
    return str(error).replace("`", "")


def ip_adapter_family(settings: Settings) -> str:
    """The model family (as the registry names families) that ``ATELIER_IP_ADAPTER`` fits,
    read once at start (blocking: off the event loop), so image prompts on a model of
    another family are refused before anything is queued; ``other`` (fits any) when there
    is no adapter or its file cannot be read yet (a hub file not yet downloaded: the worker
    still refuses a misfit when it loads the adapter)."""
    ref = settings.ip_adapter_ref()
    if ref is None:
        return "other"
    from inference.image_prompting import adapter_width
    from registry.weight_files import family_of_context_width

    width = adapter_width(ref)
    return "other" if width is None else family_of_context_width(width)


def ip_adapter_checks(settings: Settings, *, hub: bool = True) -> list[Check]:
    """The IP-Adapter of ``ATELIER_IP_ADAPTER`` (none when unset): a local file is read by
    its header (which model family it fits) and its image encoder's folder must be there; a
    hub file's repository must be in the cache or on the hub, like a model's."""
    ref = settings.ip_adapter_ref()
    if ref is None:
        return []
    from inference.image_prompting import ImagePromptError, adapter_shape, family

    item = "IP-Adapter (ATELIER_IP_ADAPTER)"
    if ref.repo is None:
        path = Path(ref.file)
        if not path.is_file():
            return [
                failed(item, f"{ref.source} does not exist; give an IP-Adapter .safetensors file")
            ]
        try:
            width, layers = adapter_shape(path)
        except (ImagePromptError, OSError, ValueError) as error:
            return [failed(item, f"{ref.source}: {error}".replace("`", ""))]
        size = readable_size(path.stat().st_size)
        what = f"for {family(width)} models ({layers} layers), {size} ({path})"
    else:
        found = check_model(ref.repo, hub=hub)
        if not found.ok:
            return [failed(item, found.detail)]
        what = f"{ref.file} from {found.detail}"
    if ref.encoder_repo is None:
        encoder = Path(ref.encoder_path)
        if not (encoder / "config.json").is_file():
            return [
                failed(
                    item,
                    f"its image encoder {encoder} is not a model folder; put the adapter's "
                    "image_encoder folder there or set ATELIER_IP_ADAPTER_IMAGE_ENCODER",
                )
            ]
    elif ref.encoder_repo != ref.repo:
        found = check_model(ref.encoder_repo, hub=hub)
        if not found.ok:
            return [failed(item, f"its image encoder: {found.detail}")]
    return [passed(item, f"{what}; image encoder {ref.encoder_source}")]


def disk_check(settings: Settings) -> Check:
    disk = nearest_existing(settings.data_dir)
    if not disk.is_dir():
        return Check("disk space", Outcome.SKIPPED, f"{disk} is not a folder (see below)")
    free = shutil.disk_usage(disk).free
    detail = f"{free / 10**9:.1f} GB free at {disk}"
    if free < MIN_FREE_BYTES:
        return failed(
            "disk space", f"{detail}; images and downloaded models need more: free some space"
        )
    return passed("disk space", detail)


def data_folder_check(settings: Settings, *, create: bool) -> Check:
    folder = settings.data_dir
    problem = writable_problem(folder, create=create)
    if problem is not None:
        return failed("data folder", f"{problem}; {DATA_FOLDER_FIX}")
    problem = outside_volume_problem(folder, settings.data_volume)
    if problem is not None:
        return failed("data folder", problem)
    state = "writable" if folder.is_dir() else "can be created and written"
    return passed("data folder", f"{folder.absolute()} ({state})")


async def database_check(settings: Settings) -> Check:
    """Open the database (which applies any pending migration) and check its integrity."""
    path = settings.database_path
    try:
        async with await Database.open(path) as db:
            version = await db.schema_version()
            row = await db.fetchone("PRAGMA integrity_check")
    except MigrationError as error:
        return failed("database", f"{path}: {error}")
    except sqlite3.DatabaseError as error:
        return failed(
            "database",
            f"{path} cannot be opened ({error}); move it aside and restore a backup "
            "(made with atelier db backup)",
        )
    result = str(row[0]) if row is not None else "no answer"
    if result != "ok":
        return failed(
            "database",
            f"{path} is damaged ({result}); stop the bot and restore a backup "
            "(made with atelier db backup)",
        )
    return passed("database", f"{path} (schema version {version}, integrity ok)")
