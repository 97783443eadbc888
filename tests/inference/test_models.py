"""The model catalog: names users type, sources operators configure."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.models import ModelCatalog, name_for_source, source_kind
from inference.params import ParamError


def test_the_default_can_be_a_bare_source() -> None:
    catalog = ModelCatalog({}, "stable-diffusion-v1-5/stable-diffusion-v1-5")
    assert catalog.default.name == "stable-diffusion-v1-5"
    assert catalog.resolve(None) == catalog.default
    assert catalog.resolve("Stable-Diffusion-V1-5") == catalog.default


def test_the_default_can_name_a_configured_model() -> None:
    catalog = ModelCatalog({"sd15": "org/sd15", "anime": "./anime.safetensors"}, "anime")
    assert catalog.default.source == "./anime.safetensors"
    assert [model.name for model in catalog] == ["anime", "sd15"]


def test_an_unknown_model_lists_the_available_ones() -> None:
    catalog = ModelCatalog({"sd15": "org/sd15", "anime": "./a.safetensors"}, "sd15")
    with pytest.raises(
        ParamError, match=r"--model sdxl: unknown model; available: anime, sd15"
    ) as error:
        catalog.resolve("sdxl")
    assert error.value.flag == "--model"


def test_names_for_sources() -> None:
    assert name_for_source("/models/dream shaper v8.safetensors") == "dream-shaper-v8"
    assert name_for_source("./tiny-model/") == "tiny-model"
    assert name_for_source("stabilityai/stable-diffusion-xl-base-1.0") == (
        "stable-diffusion-xl-base-1.0"
    )


def test_source_kinds(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"")
    assert source_kind(str(tmp_path)) == "folder"
    assert source_kind(str(checkpoint)) == "file"
    assert source_kind(str(tmp_path / "gone.ckpt")) == "missing path"
    assert source_kind("./not-here") == "missing path"
    assert source_kind("org/model") == "hub id"
