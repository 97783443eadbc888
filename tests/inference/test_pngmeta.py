"""Generation data in PNGs, in the AUTOMATIC1111 format other tools read."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from inference.pngmeta import GenerationInfo, save_png
from tests.helpers.pngmeta import parse_parameters, read_atelier, read_parameters

INFO = GenerationInfo(
    prompt="a lighthouse at dusk, volumetric light",
    negative_prompt="fog, people",
    steps=30,
    sampler="DPM++ 2M Karras",
    cfg_scale=7.0,
    seed=4294967295,
    width=704,
    height=384,
    model="sd15",
)


def test_parameters_text_is_the_a1111_layout() -> None:
    assert INFO.to_parameters() == (
        "a lighthouse at dusk, volumetric light\n"
        "Negative prompt: fog, people\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 4294967295, "
        "Size: 704x384, Model: sd15"
    )


def test_round_trip_through_a_png_file(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    save_png(Image.new("RGB", (8, 8), "red"), path, INFO, atelier={"job": {"seed": 1}})
    assert parse_parameters(read_parameters(path) or "") == INFO
    assert read_atelier(path) == {"job": {"seed": 1}}
    with Image.open(path) as image:
        assert image.getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize(
    "info",
    [
        GenerationInfo("a cat", "", 20, "Euler a", 6.5, 7, 512, 512, "m"),
        GenerationInfo("猫, 富士山 ☃", "ぼやけ", 20, "Euler", 7.5, 1, 64, 64, "tiny"),
        GenerationInfo(
            "a cat", "", 20, "DDIM", 3.0, 0, 512, 768, "my, model: v2", {"Tiling": "True"}
        ),
        GenerationInfo(
            "two\nlines", "", 4, "UniPC", 9.0, 5, 8, 8, "m", {"Denoising strength": "0.35"}
        ),
    ],
    ids=["no negative", "unicode", "model name with comma and colon", "multi-line prompt"],
)
def test_round_trips(tmp_path: Path, info: GenerationInfo) -> None:
    path = tmp_path / "image.png"
    save_png(Image.new("RGB", (4, 4)), path, info)
    parsed = parse_parameters(read_parameters(path) or "")
    assert parsed.model == info.model
    assert parsed.extra == info.extra
    assert parsed.prompt == " ".join(info.prompt.split())
    assert (parsed.negative_prompt, parsed.seed, parsed.sampler) == (
        info.negative_prompt,
        info.seed,
        info.sampler,
    )


def test_reads_parameters_written_by_other_tools() -> None:
    text = (
        "masterpiece, 1girl\nNegative prompt: lowres, bad anatomy\n"
        "Steps: 28, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 12345, "
        'Size: 512x768, Model hash: 6ce0161689, Model: v1-5, Lora hashes: "a: 1, b: 2", '
        "Version: v1.9.4"
    )
    info = parse_parameters(text)
    assert (info.steps, info.sampler, info.seed, info.width, info.height) == (
        28,
        "Euler a",
        12345,
        512,
        768,
    )
    assert info.extra["Lora hashes"] == "a: 1, b: 2"
    assert info.extra["Model hash"] == "6ce0161689"


def test_text_without_generation_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks"):
        parse_parameters("just a caption")


def test_a_png_without_data_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(path)
    assert read_parameters(path) is None
    assert read_atelier(path) is None
