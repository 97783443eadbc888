"""How the engine will load a model's source."""

from __future__ import annotations

from pathlib import Path

from inference.models import source_kind


def test_source_kinds(tmp_path: Path) -> None:
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(b"")
    assert source_kind(str(tmp_path)) == "folder"
    assert source_kind(str(checkpoint)) == "file"
    assert source_kind(str(tmp_path / "gone.ckpt")) == "missing path"
    assert source_kind("./not-here") == "missing path"
    assert source_kind("org/model") == "hub id"
