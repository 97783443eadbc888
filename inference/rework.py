"""Reworking an image: where it sits on a new canvas (Zoom Out, Pan, Make Square), which
pixels are made again (those, or a member's mask for Vary Region), and how the result is
put back together so the kept pixels stay exactly the original's.

Plain geometry and Pillow, importable anywhere (the cogs use the enums). Sizes are
``(width, height)`` in pixels; a box is ``(x, y, width, height)`` on the canvas.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from PIL import Image, ImageFilter

from inference.sizing import size_multiple

Size = tuple[int, int]
Box = tuple[int, int, int, int]

#: Zoom Out factors a member may ask for (Custom Zoom's ``--zoom``).
MIN_ZOOM, MAX_ZOOM = 1.0, 2.0
#: A pan grows the canvas by this share of the side it extends.
PAN_GROWTH = 0.5
#: A pan must add at least this share of the side, or it is not offered.
MIN_PAN_GROWTH = 0.1
#: The widest canvas, as for ``--ar``: 1:4 … 4:1.
MAX_RATIO = 4.0
#: Pixels over which a kept area fades into the made one (A1111's "Mask blur"); the made
#: area reaches this far into the kept one, so the fade is over new pixels.
MASK_BLUR = 8
#: A mask pixel at least this bright (after any transparency is laid over black) is marked.
MARKED_FROM = 128


class PanDirection(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    UP = "up"
    DOWN = "down"

    @property
    def horizontal(self) -> bool:
        return self in (PanDirection.LEFT, PanDirection.RIGHT)


class UpscaleMode(StrEnum):
    """Upscale (Subtle) and (Creative): the same 2× refinement at two strengths."""

    SUBTLE = "subtle"
    CREATIVE = "creative"


class ReworkError(ValueError):
    """The geometry asked for leaves nothing to make (or passes a bound)."""


@dataclass(frozen=True)
class Placement:
    """A canvas to generate, and where the source image sits on it."""

    canvas: Size
    box: Box


def _round_to(length: float, multiple: int) -> int:
    return max(multiple, round(length / multiple) * multiple)


def _native_canvas(native: int, ratio: float) -> Size:
    """A canvas of about ``native²`` pixels at ``ratio`` (width / height), sides rounded to
    the model's multiple (64 for real models)."""
    multiple = size_multiple(native)
    width = native * math.sqrt(ratio)
    return _round_to(width, multiple), _round_to(native / math.sqrt(ratio), multiple)


def _centred(canvas: Size, size: Size) -> Box:
    return ((canvas[0] - size[0]) // 2, (canvas[1] - size[1]) // 2, size[0], size[1])


def zoom_placement(
    source: Size, native: int, factor: float, aspect: tuple[int, int] | None = None
) -> Placement:
    """Zoom Out by ``factor``: the canvas is the smallest of the ``aspect`` (default: the
    image's own) that holds the image enlarged by ``factor``, made at about the model's
    native pixel count; the image sits in its middle, scaled down to match."""
    if not MIN_ZOOM <= factor <= MAX_ZOOM:
        raise ReworkError(f"the zoom factor must be from {MIN_ZOOM:g} to {MAX_ZOOM:g}")
    if factor == MIN_ZOOM and aspect is None:
        raise ReworkError("this zoom leaves nothing to add: zoom out further, or change --ar")
    width, height = source
    ratio = aspect[0] / aspect[1] if aspect is not None else width / height
    if not 1 / MAX_RATIO <= ratio <= MAX_RATIO:
        raise ReworkError("the canvas's ratio must be between 1:4 and 4:1")
    canvas = _native_canvas(native, ratio)
    # The image enlarged by the factor fits the canvas as its sides were rounded.
    scale = min(canvas[0] / (factor * width), canvas[1] / (factor * height))
    size = (min(canvas[0], round(width * scale)), min(canvas[1], round(height * scale)))
    if size == canvas:
        raise ReworkError("this zoom leaves nothing to add: zoom out further, or change --ar")
    return Placement(canvas, _centred(canvas, size))


def square_placement(source: Size, native: int) -> Placement:
    """Make Square: the short side grows to the long one, at the native pixel count."""
    if source[0] == source[1]:
        raise ReworkError("this image is square already")
    return zoom_placement(source, native, 1.0, (1, 1))


def pan_growth(source: Size, native: int, direction: PanDirection, max_side: int) -> float | None:
    """How much (a share of the side) a pan would add to the image: about half, less where
    the canvas it makes (:func:`pan_placement`, about the model's native pixel count) would
    pass 1:4 … 4:1 or ``max_side``; None when that is too little to offer."""
    frame = _pan_frame(source, native, direction, max_side)
    return None if frame is None else frame[0] / frame[2] - 1


def _pan_frame(
    source: Size, native: int, direction: PanDirection, max_side: int
) -> tuple[int, int, int] | None:
    """A pan's canvas side along ``direction``, the side across it, and the image's side
    along it in the canvas; None when it would add less than ``MIN_PAN_GROWTH``."""
    multiple = size_multiple(native)
    along, across = source if direction.horizontal else source[::-1]
    scale = native / math.sqrt(along * across)
    canvas_across = _round_to(across * scale, multiple)
    box_along = round(along * canvas_across / across)
    wanted = max(_round_to(box_along * (1 + PAN_GROWTH), multiple), box_along + multiple)
    largest = int(min(canvas_across * MAX_RATIO, max_side)) // multiple * multiple
    canvas_along = min(wanted, largest)
    if canvas_across > max_side or canvas_along - box_along < box_along * MIN_PAN_GROWTH:
        return None
    return canvas_along, canvas_across, box_along


def pan_placement(source: Size, native: int, direction: PanDirection, max_side: int) -> Placement:
    """Pan: the canvas grows by about half on the ``direction`` side (see
    :func:`pan_growth`); the image keeps about the model's native pixel count and the
    whole of the other side."""
    frame = _pan_frame(source, native, direction, max_side)
    if frame is None:
        raise ReworkError(
            "this image is as wide (or tall) as a pan may make it: 4:1, or the largest side "
            "this server allows"
        )
    canvas_along, canvas_across, box_along = frame
    offset = canvas_along - box_along if direction in (PanDirection.LEFT, PanDirection.UP) else 0
    if direction.horizontal:
        return Placement((canvas_along, canvas_across), (offset, 0, box_along, canvas_across))
    return Placement((canvas_across, canvas_along), (0, offset, canvas_across, box_along))


def region_placement(source: Size, native: int) -> Placement:
    """Vary (Region): the image itself, at about the model's native pixel count."""
    canvas = _native_canvas(native, source[0] / source[1])
    return Placement(canvas, (0, 0, *canvas))


# --- masks and compositing ---------------------------------------------------------------


class MaskError(ValueError):
    """A mask that cannot be used; the message says why, in a member's words."""


def read_mask(png: bytes, size: Size) -> Image.Image:
    """A member's mask (a PNG the size of the image) as an ``L`` image of 255 where marked
    and 0 elsewhere: a pixel is marked where, laid over black (so a transparent one is
    black), it is at least ``MARKED_FROM`` bright; the brush's soft edge is half in, half
    out. The size is checked before any pixel is decoded. Raises MaskError for anything
    else, or a mask that marks nothing. It decodes the whole image: call it off the event
    loop."""
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise MaskError("The mask must be a PNG image.")
    try:
        with Image.open(io.BytesIO(png)) as opened:
            if opened.size != size:
                raise MaskError(
                    f"The mask is {opened.size[0]}×{opened.size[1]} but the image is "
                    f"{size[0]}×{size[1]}; mark the area on the image itself."
                )
            opened.load()
            marked = _marked(opened)
    except MaskError:
        raise
    except (OSError, ValueError, Image.DecompressionBombError):
        raise MaskError("The mask is not a readable PNG image.") from None
    if not marked.getbbox():
        raise MaskError(
            "Nothing is marked: paint over (or draw around) the part of the image to redo."
        )
    return marked


def _marked(image: Image.Image) -> Image.Image:
    ground = Image.new("RGBA", image.size, (0, 0, 0, 255))
    ground.alpha_composite(image.convert("RGBA"))
    return ground.convert("L").point(lambda value: 255 if value >= MARKED_FROM else 0)


def canvas_start(source: Image.Image, placement: Placement) -> Image.Image:
    """The canvas a job starts from: the source scaled into its box, the rest filled with
    the source's mean colour (the model draws the border from noise; the colour only
    matters to checkpoints that look at the masked image)."""
    rgb = source.convert("RGB")
    x, y, width, height = placement.box
    mean = tuple(int(v) for v in np.asarray(rgb).reshape(-1, 3).mean(axis=0))
    canvas = Image.new("RGB", placement.canvas, mean)
    canvas.paste(rgb.resize((width, height), Image.Resampling.LANCZOS), (x, y))
    return canvas


def make_again(placement: Placement, region: Image.Image | None) -> Image.Image:
    """``L`` mask of the canvas: 255 = make again. Outpainting: outside the box; a region:
    the member's marks scaled onto the canvas (any touched pixel counts)."""
    if region is None:
        mask = Image.new("L", placement.canvas, 255)
        x, y, width, height = placement.box
        mask.paste(0, (x, y, x + width, y + height))
        return mask
    scaled = region.convert("L").resize(placement.canvas, Image.Resampling.BILINEAR)
    return scaled.point(lambda value: 255 if value > 0 else 0)


def pipeline_mask(again: Image.Image, blur: int) -> Image.Image:
    """What the pipeline makes: the area to make again, reaching ``blur`` pixels into the
    kept area so the seam's fade (:func:`keep_alpha`) is over new pixels."""
    return _grow(again, blur)


def keep_alpha(again: Image.Image, blur: int) -> Image.Image:
    """How much of the original each pixel keeps: 255 from ``blur`` pixels inside the kept
    area on, fading linearly to 0 at the edge of the area made again."""
    if blur <= 0:
        return again.point(lambda value: 255 - value)
    half = max(1, blur // 2)
    kept = _grow(again, half).point(lambda value: 255 - value)
    return _box_blur(kept, half)


def composite(made: Image.Image, start: Image.Image, alpha: Image.Image) -> Image.Image:
    """The made image with the original's pixels laid back where ``alpha`` keeps them: the
    VAE's round trip blurs kept pixels, so they are taken from the start canvas itself."""
    if made.size != start.size:
        made = made.resize(start.size, Image.Resampling.LANCZOS)
    return Image.composite(start, made.convert("RGB"), alpha)


def _grow(mask: Image.Image, pixels: int) -> Image.Image:
    """``mask``'s 255 area grown by ``pixels`` (a square neighbourhood); the canvas's edge
    is extended, not treated as marked."""
    if pixels <= 0:
        return mask
    padded = _edge_padded(mask, pixels)
    grown = padded.filter(ImageFilter.MaxFilter(2 * pixels + 1))
    return grown.crop((pixels, pixels, pixels + mask.width, pixels + mask.height))


def _box_blur(mask: Image.Image, radius: int) -> Image.Image:
    """Mean over a (2r+1)² square, the edge extended: exact 255 where the whole square is."""
    values = np.asarray(mask, dtype=np.float64)
    padded = np.pad(values, radius, mode="edge")
    summed = padded.cumsum(axis=0).cumsum(axis=1)
    summed = np.pad(summed, ((1, 0), (1, 0)))
    side = 2 * radius + 1
    height, width = values.shape
    window = (
        summed[side : side + height, side : side + width]
        - summed[:height, side : side + width]
        - summed[side : side + height, :width]
        + summed[:height, :width]
    )
    return Image.fromarray(np.rint(window / side**2).clip(0, 255).astype(np.uint8), mode="L")


def _edge_padded(mask: Image.Image, pixels: int) -> Image.Image:
    return Image.fromarray(np.pad(np.asarray(mask), pixels, mode="edge"), mode="L")


@dataclass(frozen=True)
class ReworkCanvas:
    """What one rework job's rows start from: the canvas, the pipeline's mask (255 = make
    again) and how much of the start each pixel of the result keeps."""

    start: Image.Image
    mask: Image.Image
    keep: Image.Image

    def finish(self, made: Image.Image) -> Image.Image:
        return composite(made, self.start, self.keep)


def prepare_canvas(
    init_path: str, placement: Placement, mask_path: str | None, blur: int
) -> ReworkCanvas:
    """Read a rework's inputs from disk (the source image, a region's mask) and lay them
    out on its canvas."""
    with Image.open(init_path) as source:
        start = canvas_start(source, placement)
    region = None
    if mask_path is not None:
        with Image.open(mask_path) as stored:
            region = stored.convert("L")
    again = make_again(placement, region)
    return ReworkCanvas(start, pipeline_mask(again, blur), keep_alpha(again, blur))
