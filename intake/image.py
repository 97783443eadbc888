"""Decoding an image a member gave: recognised by its content, capped in pixels before it is
decoded, turned upright, and handed on as plain RGB without its metadata."""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from intake.errors import ImageRefused
from intake.limits import IntakeLimits

#: Pillow's names for the formats accepted; only their decoders are tried.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
ACCEPTED = "PNG, JPEG, WebP or GIF"


def checked_image(data: bytes, limits: IntakeLimits, *, name: str) -> Image.Image:
    """``data`` decoded as a PNG, JPEG, WebP or GIF (its first frame), EXIF orientation
    applied, as a new RGB image that carries none of the file's metadata.

    The format is recognised by decoding, never from ``name`` (which only names the image in
    refusals), and the pixel count is read from the header before any pixel is decoded, so a
    small file that would decode to gigabytes is refused at no cost.
    """
    if len(data) > limits.max_bytes:
        raise ImageRefused(
            f"{name} is {_megabytes(len(data))}; images may be at most "
            f"{_megabytes(limits.max_bytes)}"
        )
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:  # Pillow's own guard, past twice its warning size
        raise ImageRefused(
            f"{name} has far too many pixels to decode; images may have at most "
            f"{_megapixels(limits.max_pixels)}"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):  # UnidentifiedImageError among them
        raise ImageRefused(f"{name} is not a {ACCEPTED} image") from None
    with image:
        width, height = image.size
        if width * height > limits.max_pixels:
            raise ImageRefused(
                f"{name} is {width}×{height} pixels ({_megapixels(width * height)}); images "
                f"may have at most {_megapixels(limits.max_pixels)}"
            )
        try:
            image.seek(0)
            image.load()
            upright = ImageOps.exif_transpose(image)
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ImageRefused(
                f"{name} could not be decoded: the {image.format} file is damaged or cut short"
            ) from None
        return _plain_rgb(upright)


def _plain_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels only (transparency laid on white), in a new image with no metadata."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(white, rgba).convert("RGB")
    else:
        rgb = image.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.1f} megapixels"
