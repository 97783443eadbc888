"""Image sizes keep the model's pixel count and the requested shape."""

from __future__ import annotations

import math

import pytest

from inference.sizing import image_size, size_multiple

# Every whole-number ratio with sides up to 16 between 1:4 and 4:1.
ASPECTS = [
    (width, height)
    for width in range(1, 17)
    for height in range(1, 17)
    if width <= 4 * height and height <= 4 * width
]


@pytest.mark.parametrize(
    ("native", "aspect", "expected"),
    [
        (512, (16, 9), (704, 384)),
        (512, (1, 1), (512, 512)),
        (1024, (1, 1), (1024, 1024)),
        (512, (9, 16), (384, 704)),
        (512, (4, 1), (1024, 256)),
        (512, (1, 4), (256, 1024)),
    ],
)
def test_examples(native: int, aspect: tuple[int, int], expected: tuple[int, int]) -> None:
    assert image_size(native, aspect, size_multiple(native)) == expected


def test_size_multiple() -> None:
    assert size_multiple(512) == 64
    assert size_multiple(256) == 64
    assert size_multiple(1024) == 64
    assert size_multiple(64) == 8
    assert size_multiple(32) == 8


@pytest.mark.parametrize("native", [512, 768, 1024])
def test_every_aspect_keeps_pixels_and_shape(native: int) -> None:
    multiple = size_multiple(native)
    for aspect in ASPECTS:
        width, height = image_size(native, aspect, multiple)
        assert width % multiple == 0, aspect
        assert height % multiple == 0, aspect
        assert abs(width * height / native**2 - 1) <= 0.15, aspect
        assert abs(math.log((width / height) / (aspect[0] / aspect[1]))) <= math.log(1.15), aspect


def test_sides_are_at_least_the_multiple() -> None:
    assert image_size(8, (4, 1), 8) == (16, 8)
    assert image_size(8, (1, 4), 8) == (8, 16)
