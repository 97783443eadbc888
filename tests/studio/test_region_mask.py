"""The mask sent by the region editor, as the engine gets it: the image's size, 255 where
marked and 0 elsewhere; anything else is refused with a reason, before any job is made."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from studio.region_editing import RegionMaskError, region_mask


def png(image: Image.Image, format: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image


def test_marks_become_white_and_the_rest_black() -> None:
    drawn = Image.new("RGBA", (64, 32), (0, 0, 0, 0))  # transparent: nothing marked
    draw = ImageDraw.Draw(drawn)
    draw.rectangle((10, 5, 19, 14), fill=(255, 255, 255, 255))
    draw.point((40, 20), fill=(255, 255, 255, 100))  # faint: under half, not marked
    draw.point((41, 20), fill=(200, 200, 200, 255))  # bright enough
    mask = decoded(region_mask(png(drawn), 64, 32))
    assert mask.mode == "L"
    assert mask.size == (64, 32)
    marked = {(x, y) for x in range(64) for y in range(32) if mask.getpixel((x, y)) == 255}
    assert marked == {(x, y) for x in range(10, 20) for y in range(5, 15)} | {(41, 20)}
    assert set(mask.tobytes()) == {0, 255}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not an image", "must be a PNG"),
        (png(Image.new("L", (64, 32), 255), "JPEG"), "must be a PNG"),
        (png(Image.new("L", (32, 64), 255)), "The mask is 32×64 but the image is 64×32"),
        (png(Image.new("L", (64, 32), 0)), "Nothing is marked"),
        (png(Image.new("RGBA", (64, 32), (255, 255, 255, 0))), "Nothing is marked"),
    ],
)
def test_unusable_masks_are_refused(data: bytes, reason: str) -> None:
    with pytest.raises(RegionMaskError, match=reason):
        region_mask(data, 64, 32)
