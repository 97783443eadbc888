"""Generation data of jobs with LoRAs, as model sites and third-party readers see it: the
prompt keeps its ``<lora:…>`` tags, and the checkpoint's and LoRAs' short hashes are there."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PIL import Image
from sd_parsers import ParserManager

from inference.engine import save_outputs
from inference.jobs import EngineDefaults, GenerationJob, LoraUse, plan_imagine
from inference.params import parse
from tests.helpers.pngmeta import read_parameters

MODEL_SHA = "6ce0161689" + "0" * 54
PIXEL_SHA = "abcdef0123" + "1" * 54
INK_SHA = "9876543210" + "2" * 54


def _job() -> GenerationJob:
    request = parse("a fox <lora:pixelart:0.8> in snow <lora:ink@2> --no blurry --seed 42")[0]
    job = plan_imagine(
        request,
        model="sd15:1",
        native_size=64,
        defaults=EngineDefaults(steps=20),
        model_hash=MODEL_SHA,
    )
    loras = (
        LoraUse("pixelart:1", "/loras/pixelart.safetensors", None, 0.8, PIXEL_SHA),
        LoraUse("ink:2", "/loras/ink.safetensors", None, 1.0, INK_SHA),
    )
    return replace(job, loras=loras)


def _saved(tmp_path: Path, job: GenerationJob) -> Path:
    paths = [tmp_path / f"{n}.png" for n in range(job.num_images)]
    save_outputs(job, [Image.new("RGB", (64, 64))] * job.num_images, paths)
    return paths[0]


def test_parameters_carry_the_tags_the_model_hash_and_the_lora_hashes(tmp_path: Path) -> None:
    text = read_parameters(_saved(tmp_path, _job()))
    assert text is not None
    prompt, negative, fields = text.split("\n")
    assert prompt == "a fox <lora:pixelart:0.8> in snow <lora:ink@2>"
    assert negative == "Negative prompt: blurry"
    assert "Model hash: 6ce0161689, " in fields
    assert 'Lora hashes: "pixelart: abcdef0123, ink@2: 9876543210"' in fields
    assert fields.endswith(
        'Hashes: {"model": "6ce0161689", "lora:pixelart": "abcdef0123", "lora:ink@2": "9876543210"}'
    )


def test_a_third_party_reader_reads_prompt_tags_and_hashes_back(tmp_path: Path) -> None:
    info = ParserManager().parse(_saved(tmp_path, _job()))
    assert info is not None
    assert info.full_prompt == "a fox <lora:pixelart:0.8> in snow <lora:ink@2>"
    assert info.full_negative_prompt == "blurry"
    assert {model.hash for model in info.models} == {"6ce0161689"}
    assert info.metadata["Hashes"] == {
        "model": "6ce0161689",
        "lora:pixelart": "abcdef0123",
        "lora:ink@2": "9876543210",
    }


def test_a_job_without_loras_or_file_hash_writes_no_hash_fields(tmp_path: Path) -> None:
    job = replace(_job(), loras=(), model_hash=None)
    text = read_parameters(_saved(tmp_path, job))
    assert text is not None
    assert "hash" not in text.lower()
