"""The model family of the configured IP-Adapter, read once at start from its file's header,
so image prompts on a model of another family are refused before anything is queued."""

from __future__ import annotations

import json
import struct
from pathlib import Path

from bot.checks import ip_adapter_family
from bot.settings import load_settings


def _adapter(path: Path, width: int) -> Path:
    """An IP-Adapter file's header as published ones have it: ``to_k_ip`` weights as wide
    as the model's text-encoder output."""
    weights = {"dtype": "F32", "shape": [1, width], "data_offsets": [0, 4 * width]}
    header = {"ip_adapter.1.to_k_ip.weight": weights}
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"\0" * 4 * width)
    return path


def test_the_ip_adapters_family_is_read_from_its_header_and_unknown_is_other(
    clean_env: Path, tmp_path: Path, tiny_ip_adapter: Path
) -> None:
    sd15 = _adapter(tmp_path / "ip-adapter_sd15.safetensors", 768)
    sdxl = _adapter(tmp_path / "ip-adapter_sdxl.safetensors", 2048)
    assert ip_adapter_family(load_settings(ip_adapter=str(sd15))) == "sd1"
    assert ip_adapter_family(load_settings(ip_adapter=str(sdxl))) == "sdxl"
    # Unknown fits any model: the worker's own check at load still refuses a misfit.
    assert ip_adapter_family(load_settings(ip_adapter=str(tiny_ip_adapter))) == "other"
    assert ip_adapter_family(load_settings(ip_adapter=str(tmp_path / "gone.safetensors"))) == (
        "other"
    )
    assert ip_adapter_family(load_settings()) == "other"
