"""What a registered source may be (``registry.sources``): a hub id, a diffusers folder or
a weights file, told by what it is, with one answer for everything else."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy
import pytest
from safetensors.numpy import save_file

from registry.errors import RegistryError
from registry.sources import check_model_source, is_diffusers_folder, is_weights_file


def test_hub_ids_pass_as_typed() -> None:
    for source in ("org/model", "stabilityai/stable-diffusion-xl-base-1.0", " org/m "):
        assert check_model_source(source) == source.strip()


def test_a_diffusers_folder_and_real_weights_files_pass(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "X"}))
    weights = tmp_path / "w.safetensors"
    save_file({"a": numpy.zeros(2)}, weights)
    checkpoint = tmp_path / "w.ckpt"
    with zipfile.ZipFile(checkpoint, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    for path in (folder, weights, checkpoint):
        assert check_model_source(str(path)) == str(path)


def test_anything_else_is_refused_in_the_same_words(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    bad_index = tmp_path / "bad"
    bad_index.mkdir()
    (bad_index / "model_index.json").write_text("[1, 2]")
    text = tmp_path / "notes.safetensors"
    text.write_text("root:x:0:0")
    sources = [
        "/etc/passwd",
        "/etc",
        str(tmp_path / "missing.ckpt"),
        str(tmp_path / "empty"),
        str(bad_index),
        str(text),
        "../x",
        "a/b/c",
        "bad\0name",
    ]
    words = set()
    for source in sources:
        with pytest.raises(RegistryError) as refused:
            check_model_source(source)
        words.add(str(refused.value).replace(source[:80], "PATH"))
    assert len(words) == 1, words


def test_the_checks_judge_contents_not_names(tmp_path: Path) -> None:
    assert not is_diffusers_folder(tmp_path)
    fake = tmp_path / "x.ckpt"
    fake.write_bytes(b"#!/bin/sh\n")
    assert not is_weights_file(fake)
    fake.write_bytes(b"PK\x03\x04rest")
    assert is_weights_file(fake)


def test_a_hub_id_is_judged_by_how_it_is_written_never_by_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ``org/model`` that exists as a relative path (even one that is no model) gets the
    answer one that does not exist gets: the answer tells nothing about the disk."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "atelier.db").write_text("not a model")
    assert check_model_source("data/atelier.db") == "data/atelier.db"
    assert check_model_source("data/nothing.db") == "data/nothing.db"
