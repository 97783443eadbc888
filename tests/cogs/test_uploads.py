"""Results within Discord's upload limit, and small progress previews."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cogs.uploads import PREVIEW_SIDE, preview_upload, result_upload


def _noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Random pixels: a PNG of them is as large as PNGs get (about 3 bytes a pixel), while
    a JPEG is several times smaller."""
    channels = len(mode)
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, channels), dtype=np.uint8)
    return Image.fromarray(pixels, mode)


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "12-grid.png"
    _noise(256, 192).save(path)
    return path


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_png_within_the_limit_is_sent_as_it_is(png: Path) -> None:
    data = png.read_bytes()
    upload = result_upload(png, len(data))
    assert upload.filename == "12-grid.png"
    assert upload.data == data


@pytest.mark.parametrize("share", [0.99, 0.5, 0.25])  # 0.25: below quality 95
def test_a_png_over_the_limit_becomes_a_full_size_jpeg_within_it(png: Path, share: float) -> None:
    limit = int(len(png.read_bytes()) * share)
    upload = result_upload(png, limit)
    assert upload.filename == "12-grid.jpg"
    assert len(upload.data) <= limit
    image = _decoded(upload.data)
    assert image.format == "JPEG"
    assert image.size == (256, 192)  # quality alone was enough


def test_a_jpeg_that_is_still_too_big_is_sent_at_half_size(png: Path) -> None:
    limit = len(png.read_bytes()) // 12  # no quality makes 256×192 of noise this small
    upload = result_upload(png, limit)
    assert len(upload.data) <= limit
    image = _decoded(upload.data)
    assert image.format == "JPEG"
    assert image.size in [(128, 96), (64, 48), (32, 24)]
    assert image.width / image.height == pytest.approx(256 / 192)


def test_an_rgba_png_over_the_limit_still_becomes_a_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "1-1.png"
    _noise(64, 64, "RGBA").save(path)
    limit = len(path.read_bytes()) // 2
    upload = result_upload(path, limit)
    assert len(upload.data) <= limit
    assert _decoded(upload.data).mode == "RGB"


def test_a_limit_no_image_can_meet_is_an_error(png: Path) -> None:
    with pytest.raises(ValueError, match=r"12-grid\.png cannot be made smaller than 100 bytes"):
        result_upload(png, 100)


def test_an_upload_makes_a_fresh_discord_file_each_time(png: Path) -> None:
    upload = result_upload(png, 10**9)
    first, second = upload.file(), upload.file()
    assert first.filename == second.filename == "12-grid.png"
    assert first.fp.read() == second.fp.read() == upload.data


@pytest.mark.parametrize(
    ("size", "expected"),
    [((64, 64), (256, 256)), ((88, 48), (256, 140)), ((48, 88), (140, 256)), ((1024, 8), (256, 2))],
)
def test_a_preview_is_a_jpeg_with_a_longest_side_of_256(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    upload = preview_upload(_noise(*size, mode="RGBA"))
    assert upload.filename == "preview.jpg"
    image = _decoded(upload.data)
    assert image.format == "JPEG"
    assert image.size == expected
    assert max(image.size) == PREVIEW_SIDE
