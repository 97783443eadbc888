"""Decoding what members give: only PNG, JPEG, WebP and GIF, recognised by their content; too
many pixels refused before decoding; upright, plain RGB, no metadata left."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from intake.errors import ImageRefused
from intake.image import checked_image
from intake.limits import IntakeLimits

LIMITS = IntakeLimits()


def encoded(image: Image.Image, format: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format, **options)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``×``height`` pixels and holds a few bytes of them."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP", "GIF"])
def test_each_accepted_format_comes_out_as_plain_rgb(format: str) -> None:
    data = encoded(Image.new("RGB", (12, 8), (200, 30, 30)), format)
    image = checked_image(data, LIMITS, name="fox.bin")
    assert (image.mode, image.size) == ("RGB", (12, 8))
    assert image.getpixel((6, 4)) == pytest.approx((200, 30, 30), abs=40)


def test_an_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("blue", "yellow", "red")]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = checked_image(data, LIMITS, name="loop.gif")
    assert image.getpixel((4, 4)) == (0, 0, 255)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"<html>not an image</html>", "fox.png"),
        (encoded(Image.new("RGB", (8, 8)), "BMP"), "fox.png"),  # Pillow reads it; we do not
        (encoded(Image.new("RGB", (8, 8)), "TIFF"), "fox.jpg"),
        (b"", "empty.png"),
    ],
)
def test_content_that_is_not_an_accepted_format_is_refused_whatever_its_name(
    data: bytes, name: str
) -> None:
    with pytest.raises(ImageRefused) as refused:
        checked_image(data, LIMITS, name=name)
    assert str(refused.value) == f"{name} is not a PNG, JPEG, WebP or GIF image"


def test_too_many_pixels_are_refused_from_the_header_before_decoding() -> None:
    # 8000×6000 claimed, hardly any pixel data: decoding would fail as damaged instead.
    with pytest.raises(ImageRefused) as refused:
        checked_image(png_header_only(8000, 6000), LIMITS, name="bomb.png")
    assert str(refused.value) == (
        "bomb.png is 8000×6000 pixels (48.0 megapixels); images may have at most 40.0 megapixels"
    )


def test_pillows_own_bomb_guard_is_a_refusal_too() -> None:
    limits = IntakeLimits(max_pixels=10**12)  # past what the settings allow
    with pytest.raises(ImageRefused, match=r"^bomb\.png has far too many pixels to decode"):
        checked_image(png_header_only(100_000, 100_000), limits, name="bomb.png")


def test_an_image_within_the_pixel_cap_passes() -> None:
    data = encoded(Image.new("RGB", (100, 50)), "PNG")
    assert checked_image(data, IntakeLimits(max_pixels=5000), name="a.png").size == (100, 50)
    with pytest.raises(ImageRefused, match="100×50 pixels"):
        checked_image(data, IntakeLimits(max_pixels=4999), name="a.png")


def test_a_cut_short_file_is_refused_as_damaged() -> None:
    data = encoded(Image.effect_noise((64, 64), 50).convert("RGB"), "PNG")
    with pytest.raises(ImageRefused) as refused:
        checked_image(data[: len(data) // 2], LIMITS, name="half.png")
    assert (
        str(refused.value) == "half.png could not be decoded: the PNG file is damaged or cut short"
    )


def test_too_many_bytes_are_refused() -> None:
    data = encoded(Image.new("RGB", (8, 8)), "PNG")
    with pytest.raises(ImageRefused) as refused:
        checked_image(data, IntakeLimits(max_bytes=len(data) - 1), name="a.png")
    assert "images may be at most" in str(refused.value)


def test_exif_orientation_is_applied_and_metadata_dropped() -> None:
    # Stored 40 wide, 20 high, left half black; orientation 6: shown turned 90° clockwise.
    stored = Image.new("RGB", (40, 20), "white")
    stored.paste((0, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 0.0)}  # GPS latitude
    data = encoded(stored, "JPEG", exif=exif.tobytes(), quality=95)

    image = checked_image(data, LIMITS, name="photo.jpg")

    assert image.size == (20, 40)
    assert image.getpixel((10, 5)) == pytest.approx((0, 0, 0), abs=30)  # top: was left
    assert image.getpixel((10, 35)) == pytest.approx((255, 255, 255), abs=30)
    assert image.info == {}
    assert len(image.getexif()) == 0
    assert encoded(image, "PNG") == encoded(
        Image.frombytes("RGB", (20, 40), image.tobytes()), "PNG"
    )


def test_png_text_is_dropped_and_transparency_laid_on_white() -> None:
    info = PngInfo()
    info.add_text("parameters", "someone else's prompt")
    data = encoded(Image.new("RGBA", (8, 8), (255, 0, 0, 0)), "PNG", pnginfo=info)
    image = checked_image(data, LIMITS, name="clear.png")
    assert image.info == {}
    assert image.getpixel((0, 0)) == (255, 255, 255)
