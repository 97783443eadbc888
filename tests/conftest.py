"""Fixtures shared by the whole suite: tiny offline models, a clean settings environment, a
database on a temporary file and a fake clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inference.library_logs import quiet_library_logs
from inference.pool import ray_env

quiet_library_logs()
# A local Ray started by a test keeps every connection on 127.0.0.1 only with this, set
# before Ray is imported (tests/helpers/cluster.py).
ray_env.prepare(loopback=True)

#: The whole bot against the Discord stand-in (``bots``, ``fake``), for any test that needs it.
pytest_plugins = ["tests.helpers.discord_bots"]

from db.database import Database  # noqa: E402 (after quieting the libraries)
from inference.backend import DiffusersBackend  # noqa: E402
from inference.models import ModelRef, ip_adapter_ref  # noqa: E402
from inference.tiny import build_tiny_pipeline, save_tiny_model  # noqa: E402
from inference.tiny_ip_adapter import save_tiny_ip_adapter  # noqa: E402
from inference.tiny_lora import save_tiny_lora  # noqa: E402
from tests.helpers.clock import FakeClock  # noqa: E402
from tests.helpers.hub_cache import FakeHubCache  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight SD 1.x pipeline saved in diffusers format, built once per run."""
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-sd", "sd")


@pytest.fixture(scope="session")
def tiny_sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-sdxl", "sdxl")


@pytest.fixture(scope="session")
def tiny_inpaint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny dedicated inpainting model (9-channel UNet) in diffusers format."""
    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-inpaint", inpainting=True)


@pytest.fixture(scope="session")
def tiny_lora_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """LoRAs for the tiny SD model, one per format members download: ``diffusers``
    (PEFT keys), ``kohya`` (A1111 keys) and a second diffusers one, ``other``."""
    folder = tmp_path_factory.mktemp("loras")
    pipe = build_tiny_pipeline("sd")
    return {
        "diffusers": save_tiny_lora(pipe, folder / "ink.safetensors", "diffusers", seed=1),
        "kohya": save_tiny_lora(pipe, folder / "pixelart.safetensors", "kohya", seed=2),
        "other": save_tiny_lora(pipe, folder / "glow.safetensors", "diffusers", seed=3),
    }


@pytest.fixture(scope="session")
def tiny_ip_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random IP-Adapter for the tiny SD model, with its image encoder in an
    ``image_encoder`` folder beside it (h94/IP-Adapter's layout): the file to set as
    ``ATELIER_IP_ADAPTER`` (nothing else needs setting)."""
    folder = tmp_path_factory.mktemp("ip-adapter-sd")
    return save_tiny_ip_adapter(build_tiny_pipeline("sd"), folder)


@pytest.fixture(scope="session")
def tiny_sdxl_ip_adapter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same for the tiny SDXL model."""
    folder = tmp_path_factory.mktemp("ip-adapter-sdxl")
    return save_tiny_ip_adapter(build_tiny_pipeline("sdxl"), folder)


@pytest.fixture(scope="session")
def tiny_ip_backend(tiny_model_dir: Path, tiny_ip_adapter: Path) -> DiffusersBackend:
    """The tiny SD model on the CPU with :func:`tiny_ip_adapter` configured (loaded when a
    job with image prompts first needs it), as a worker loads it."""
    return DiffusersBackend.load(
        ModelRef("tiny", str(tiny_model_dir)),
        "cpu",
        ip_adapter=ip_adapter_ref(str(tiny_ip_adapter)),
    )


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir: Path) -> DiffusersBackend:
    """The tiny SD model loaded through the real loading code, on the CPU.

    Shared by many tests, as a worker shares one backend between jobs: a test that leaks
    state into it (say, circular padding) breaks the tests after it.
    """
    return DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")


@pytest.fixture(scope="session")
def tiny_sdxl_backend(tiny_sdxl_dir: Path) -> DiffusersBackend:
    return DiffusersBackend.load(ModelRef("tiny-xl", str(tiny_sdxl_dir)), "cpu")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A database opened (and migrated) on a file of the test's own, closed afterwards."""
    async with await Database.open(tmp_path / "atelier.db") as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at ``tests.helpers.clock.T0``, which the test moves by hand."""
    return FakeClock()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ATELIER_* variables from the developer's shell and no stray .env: the test runs in
    an empty working directory of its own, which it gets as the fixture's value."""
    for name in list(os.environ):
        if name.startswith("ATELIER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``gpu`` run where CUDA is present and are skipped elsewhere."""
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHubCache:
    """An empty Hugging Face hub cache read offline: the hub client (in this process, and in
    an ``atelier`` subprocess through the environment) answers only from it."""
    from huggingface_hub import constants

    root = tmp_path / "hf-cache"
    root.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(root))
    return FakeHubCache(root)
