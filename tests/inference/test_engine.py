"""Running jobs to files: every PNG can be reproduced from the data it carries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from PIL import Image

from inference.backend import DiffusersBackend
from inference.engine import render
from inference.jobs import GenerationJob, LoraUse, plan_variation
from inference.models import ModelRef
from tests.helpers.inference import plan
from tests.helpers.pngmeta import parse_parameters, read_atelier, read_parameters


def _paths(directory: Path) -> list[Path]:
    return [directory / f"image-{i}.png" for i in range(1, 5)]


def test_images_and_grid_carry_their_generation_data(
    tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    job = plan(tiny_backend, "a lighthouse::2 fog --seed 77 --no boats --ar 3:2 --chaos 10")
    saved = render(tiny_backend, job, _paths(tmp_path), tmp_path / "grid.png")
    assert [image.seed for image in saved] == [77, 78, 79, 80]
    for image in saved:
        info = parse_parameters(read_parameters(image.path) or "")
        assert info.prompt == "a lighthouse::2 fog"
        assert info.negative_prompt == "boats"
        assert (info.seed, info.width, info.height) == (image.seed, image.width, image.height)
        assert (info.steps, info.sampler, info.model) == (4, "DPM++ 2M Karras", "tiny")
        assert info.cfg_scale == job.guidance_scale
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (2 * saved[0].width, 2 * saved[0].height)
    assert parse_parameters(read_parameters(tmp_path / "grid.png") or "").seed == 77


def test_an_image_is_reproduced_from_its_own_png(
    tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    job = plan(tiny_backend, "a red:: car::-0.2 --chaos 35 --stop 80 --tile --seed 5")
    saved = render(tiny_backend, job, _paths(tmp_path / "first"))
    record = read_atelier(saved[2].path)
    assert record is not None
    assert record["index"] == 2
    again = render(
        tiny_backend, GenerationJob.from_params(record["job"]), _paths(tmp_path / "again")
    )
    with Image.open(saved[2].path) as original, Image.open(again[2].path) as copy:
        assert original.tobytes() == copy.tobytes()


def test_a_png_names_no_path_of_the_bots_machine(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], tmp_path: Path
) -> None:
    """PNGs are public (the web studio serves them as they are): a variation's init image
    (under the data folder, named after the parent's job number) and a LoRA's file stay out,
    while the LoRA's version, weight and hash and the init image's hash stay in."""
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    data = tmp_path / "data"
    parent = render(backend, plan(backend, "a fox --seed 3"), _paths(data / "jobs" / "41"))
    lora_hash = hashlib.sha256(tiny_lora_files["kohya"].read_bytes()).hexdigest()
    lora = LoraUse(
        key="pixelart:1",
        source=str(tiny_lora_files["kohya"]),
        weight_name=None,
        weight=0.8,
        sha256=lora_hash,
    )
    job = replace(
        plan_variation(
            replace(plan(backend, "a fox --seed 3"), loras=(lora,)),
            image_path=str(parent[1].path),
            strength=0.5,
        ),
        seed=9,
    )
    saved = render(backend, job, _paths(data / "jobs" / "42"), data / "jobs" / "42" / "grid.png")
    for path in [image.path for image in saved] + [data / "jobs" / "42" / "grid.png"]:
        raw = json.dumps(read_atelier(path))
        for secret in (str(data), str(tiny_lora_files["kohya"].parent), "/jobs/41"):
            assert secret not in raw
        record = read_atelier(path)
        assert record is not None
        assert record["job"]["loras"] == [{"key": "pixelart:1", "weight": 0.8, "sha256": lora_hash}]
        assert (
            record["job"]["init_image_sha256"]
            == hashlib.sha256(parent[1].path.read_bytes()).hexdigest()
        )
        assert (record["job"]["seed"], record["job"]["strength"]) == (9, 0.5)
