"""Image sizes for an aspect ratio: keep the model's native pixel count, change the shape.

A model trained at 512x512 draws best at about 512² pixels, whatever the ratio; ``--ar 16:9``
therefore means 704x384 rather than 910x512. Sides must be multiples of what the UNet and VAE
downsample by, hence the rounding.
"""

from __future__ import annotations

import math

_TINY_MODEL_NATIVE = 256


def size_multiple(native: int) -> int:
    """The multiple that image sides are rounded to for a model of ``native`` resolution.

    64 for real models (it keeps every UNet level's feature map even); tiny test models with
    a native size below 256 would be distorted beyond use by that, so they get 8, the VAE's
    own factor.
    """
    return 64 if native >= _TINY_MODEL_NATIVE else 8


def image_size(native: int, aspect: tuple[int, int], multiple: int) -> tuple[int, int]:
    """Width and height with ``width / height ≈ aspect`` and ``width * height ≈ native²``.

    Each side is rounded to the nearest multiple of ``multiple`` and is at least ``multiple``.
    """
    ratio = aspect[0] / aspect[1]
    width = native * math.sqrt(ratio)
    height = native / math.sqrt(ratio)
    return _round_to(width, multiple), _round_to(height, multiple)


def _round_to(length: float, multiple: int) -> int:
    return max(multiple, round(length / multiple) * multiple)
