"""``atelier check`` on a good and a bad set-up, and each model check on its own."""

from __future__ import annotations

import asyncio
import json
import os
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bot import model_checks
from bot.checks import Outcome, database_check, device_checks, lora_checks
from bot.data_folder import outside_volume_problem
from bot.model_checks import check_model
from bot.settings import load_settings
from tests.helpers.hub_cache import FakeHubCache

REPO = Path(__file__).resolve().parents[2]


def _check(cwd: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ATELIER_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    return done.returncode, done.stdout.splitlines()


def test_check_on_a_good_setup_passes_every_item_and_prepares_the_data_folder(
    tmp_path: Path, tiny_model_dir: Path, tiny_lora_files: dict[str, Path], tiny_ip_adapter: Path
) -> None:
    (tmp_path / ".env").write_text("ATELIER_DEVICES=cpu\nATELIER_DISCORD_TOKEN=MTIz.abc\n")
    rc, lines = _check(
        tmp_path,
        {
            "ATELIER_MODEL": str(tiny_model_dir),
            "ATELIER_LORAS": json.dumps({"PixelArt": str(tiny_lora_files["kohya"])}),
            "ATELIER_IP_ADAPTER": str(tiny_ip_adapter),
            "ATELIER_DATA_VOLUME": str(tmp_path),
            "ATELIER_DATA_DIR": str(tmp_path / "data"),
        },
    )
    assert rc == 0, lines
    assert all(line.startswith("✓ ") for line in lines), lines
    assert [line.split(":")[0] for line in lines] == [
        "✓ settings",
        "✓ Discord token",
        "✓ device cpu",
        "✓ model tiny-sd (ATELIER_MODEL)",
        '✓ LoRA pixelart (ATELIER_LORAS["PixelArt"])',
        "✓ IP-Adapter (ATELIER_IP_ADAPTER)",
        "✓ disk space",
        "✓ data folder",
        "✓ database",
    ]
    assert lines[0] == f"✓ settings: read from {tmp_path / '.env'} and the environment"
    assert lines[2] == "✓ device cpu: the CPU, float32"
    assert lines[3].startswith(f"✓ model tiny-sd (ATELIER_MODEL): folder {tiny_model_dir}: ")
    assert "StableDiffusionPipeline" in lines[3]
    assert lines[4] == (
        f'✓ LoRA pixelart (ATELIER_LORAS["PixelArt"]): kohya LoRA for any family, '
        f"{model_checks.readable_size(tiny_lora_files['kohya'].stat().st_size)} "
        f"({tiny_lora_files['kohya']})"
    )
    assert lines[5] == (
        "✓ IP-Adapter (ATELIER_IP_ADAPTER): for 8-wide cross-attention models (4 layers), "
        f"{model_checks.readable_size(tiny_ip_adapter.stat().st_size)} ({tiny_ip_adapter}); "
        f"image encoder {tiny_ip_adapter.parent / 'image_encoder'}"
    )
    assert lines[8].endswith("integrity ok)")
    assert (tmp_path / "data" / "atelier.db").is_file()


def test_check_on_a_bad_setup_names_each_problem_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "notlora.safetensors").write_bytes(b"not a LoRA")
    rc, lines = _check(
        tmp_path,
        {
            "ATELIER_DEVICES": "cpu",
            "ATELIER_MODEL": "./nothere",
            "ATELIER_MODELS": json.dumps({"empty": "./not-a-model", "hub": "org/model"}),
            "ATELIER_LORAS": json.dumps({"x": "./notlora.safetensors", "Empty": "./e"}),
            "ATELIER_IP_ADAPTER": "./adapters/ip-adapter_sd15.safetensors",
            "ATELIER_DATA_VOLUME": str(tmp_path / "volume"),
            "ATELIER_DATA_DIR": str(tmp_path / "data"),
        },
    )
    assert rc == 2
    assert lines[1].startswith("✗ Discord token: ATELIER_DISCORD_TOKEN is not set")
    failed = {line.split(": ")[0]: line.split(": ", 1)[1] for line in lines if line[0] == "✗"}
    assert failed["✗ model empty (ATELIER_MODELS['empty'])"].startswith(
        "./not-a-model has no model_index.json"
    )
    assert failed["✗ model hub (ATELIER_MODELS['hub'])"].startswith(
        "org/model is not in the Hugging Face cache and the hub at http://127.0.0.1:9 cannot "
        "be reached"
    )
    assert failed["✗ model nothere (ATELIER_MODEL)"].startswith("./nothere does not exist")
    assert failed['✗ LoRA x (ATELIER_LORAS["x"])'] == (
        "./notlora.safetensors is not a LoRA file: give the path of a .safetensors LoRA "
        "(diffusers/PEFT or kohya/A1111 format) on this machine, or "
        "hf://org/repo/file.safetensors for one in a Hugging Face hub repository"
    )
    assert failed['✗ LoRA empty (ATELIER_LORAS["Empty"])'] == (
        "empty is also a configured model; give it another name"
    )
    assert failed["✗ IP-Adapter (ATELIER_IP_ADAPTER)"] == (
        "./adapters/ip-adapter_sd15.safetensors does not exist; give an IP-Adapter "
        ".safetensors file"
    )
    assert failed["✗ data folder"] == (
        f"{tmp_path / 'data'} is outside the volume {tmp_path / 'volume'} "
        "(ATELIER_DATA_VOLUME), so it would be lost with the container; remove "
        "ATELIER_DATA_DIR from .env (the image sets it to /data)"
    )
    assert lines[-1] == "– database: not opened until the problems above are fixed"
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "not-a-model",
        "notlora.safetensors",
    ]


def test_hub_loras_are_checked_from_the_hub_cache(
    clean_env: Path, hub_cache: FakeHubCache, tiny_lora_files: dict[str, Path]
) -> None:
    cached = hub_cache.put("org/loras", "styles/pixel.safetensors", tiny_lora_files["kohya"])
    settings = load_settings(
        model="org/base",
        loras={
            "pixel": "hf://org/loras/styles/pixel.safetensors",
            "gone": "hf://org/loras/gone.safetensors",
            "bad": "hf://org/pixel.safetensors",
        },
    )
    found = {check.item: (check.outcome, check.detail) for check in lora_checks(settings)}
    size = model_checks.readable_size(tiny_lora_files["kohya"].stat().st_size)
    assert found['LoRA pixel (ATELIER_LORAS["pixel"])'] == (
        Outcome.PASSED,
        f"kohya LoRA for any family, {size} ({cached})",
    )
    assert found['LoRA gone (ATELIER_LORAS["gone"])'] == (
        Outcome.FAILED,
        "hf://org/loras/gone.safetensors cannot be read: it is not in the Hugging Face cache "
        "and HF_HUB_OFFLINE is set; download it once with a network",
    )
    assert found['LoRA bad (ATELIER_LORAS["bad"])'] == (
        Outcome.FAILED,
        "hf://org/pixel.safetensors names no file in a hub repository: write "
        "hf://org/repo/file.safetensors (the file's path inside the repository)",
    )


def test_check_with_bad_settings_says_so_and_stops(tmp_path: Path) -> None:
    rc, lines = _check(tmp_path, {"ATELIER_DEVCIES": "cpu"})
    assert rc == 2
    assert lines == [
        "✗ settings: environment: ATELIER_DEVCIES is not a setting; did you mean ATELIER_DEVICES?"
    ]
    assert list(tmp_path.iterdir()) == []


# --- models, one by one -----------------------------------------------------------------------


def _safetensors(path: Path, tensors: int) -> Path:
    header = {
        f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]}
        for i in range(tensors)
    }
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"\0" * 4 * tensors)
    return path


def test_local_model_files(tmp_path: Path) -> None:
    good = check_model(str(_safetensors(tmp_path / "good.safetensors", 3)))
    assert good.ok
    assert good.detail.startswith(
        f"file {tmp_path / 'good.safetensors'}: single-file checkpoint, 3 tensors"
    )
    (tmp_path / "broken.safetensors").write_bytes(b"\xff" * 20)
    broken = check_model(str(tmp_path / "broken.safetensors"))
    assert not broken.ok
    assert "is not a readable .safetensors file" in broken.detail
    (tmp_path / "broken.ckpt").write_bytes(b"not a zip")
    assert not check_model(str(tmp_path / "broken.ckpt")).ok


def test_a_hub_id_in_the_cache_is_found_without_asking_the_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    repo = tmp_path / "models--org--model"
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "model_index.json").write_text("{}")
    (repo / "blobs").mkdir()
    (repo / "blobs" / "weights").write_bytes(b"\0" * 2_000_000)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    found = check_model("org/model")  # the hub (a closed port here) is not asked
    assert found.ok
    assert found.detail == "hub id org/model: in the Hugging Face cache, 2.0 MB"
    assert not check_model("org/other").ok


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Callable[[Handler], None]]:
    """A stand-in of the hub's model API on 127.0.0.1; the test sets its answer."""
    answers: list[Handler] = []

    async def model_info(request: web.Request) -> web.StreamResponse:
        return await answers[-1](request)

    app = web.Application()
    app.router.add_get("/api/models/{org}/{name}", model_info)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(model_checks, "HUB_TIMEOUT_SECONDS", 0.5)
    yield answers.append
    await runner.cleanup()


async def test_hub_answers(hub: Callable[[Handler], None]) -> None:
    async def known(request: web.Request) -> web.StreamResponse:
        config = {"diffusers": {"_class_name": "StableDiffusionXLPipeline"}}
        return web.json_response({"config": config, "usedStorage": 6_940_000_000})

    async def unknown(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "not found"}, status=404)

    async def gated(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "gated"}, status=401)

    async def silent(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(5)  # past the check's timeout (0.5 s here)
        return web.json_response({})

    hub(known)
    found = await asyncio.to_thread(check_model, "org/model")
    assert found.ok
    assert found.detail == (
        "hub id org/model: StableDiffusionXLPipeline, 6.9 GB on the hub, downloaded at first use"
    )
    hub(unknown)
    found = await asyncio.to_thread(check_model, "org/model")
    assert not found.ok
    assert "has no model org/model; check the id" in found.detail
    hub(gated)
    found = await asyncio.to_thread(check_model, "org/model")
    assert not found.ok
    assert "gated or private" in found.detail
    assert "HF_TOKEN" in found.detail
    hub(silent)
    found = await asyncio.to_thread(check_model, "org/model")
    assert not found.ok
    assert "cannot be reached (timed out)" in found.detail


def test_hub_offline_mode_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    found = check_model("org/model")
    assert not found.ok
    assert "HF_HUB_OFFLINE is set" in found.detail


async def test_a_damaged_database_is_one_line_saying_how_to_restore(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "data").mkdir()
    (clean_env / "data" / "atelier.db").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("ATELIER_DATA_DIR", "data")
    check = await database_check(load_settings())
    assert check.outcome is Outcome.FAILED
    assert check.line().startswith("✗ database: data/atelier.db cannot be opened (file is not")
    assert "atelier db backup" in check.line()


def test_a_precision_the_device_cannot_take_is_named(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DEVICES", "cpu")
    monkeypatch.setenv("ATELIER_DTYPE", "fp16")
    [check] = device_checks(load_settings())
    assert check.line() == (
        "✗ device cpu: ATELIER_DTYPE=fp16 is not supported on the CPU; use fp32 or auto"
    )


@pytest.mark.gpu
def test_a_cuda_device_is_named_after_it_computed(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DEVICES", "cuda:0")
    [check] = device_checks(load_settings())
    assert check.outcome is Outcome.PASSED, check.line()
    assert check.detail.endswith(" GiB, float16")


def test_a_data_folder_that_climbs_out_of_the_volume_is_outside_it(tmp_path: Path) -> None:
    volume = tmp_path / "data"
    volume.mkdir()
    assert outside_volume_problem(volume / "atelier", volume) is None
    problem = outside_volume_problem(volume / ".." / "app", volume)
    assert problem is not None
    assert problem.startswith(f"{tmp_path / 'app'} is outside the volume {volume} ")
