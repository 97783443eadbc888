"""Reworks in the engine: the canvas geometry, members' masks, and generation on the tiny
model through both inpainting paths — the loaded model's pipeline derived with
``from_pipe`` (4-channel UNet, latent blending) and a dedicated inpainting checkpoint
(9-channel UNet) — with the original's pixels kept exactly where they are not made again."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from db.jobs import JobKind
from inference.backend import DiffusersBackend
from inference.engine import public_record, render
from inference.jobs import GenerationJob, InpaintCheckpoint, batch_key, plan_rework
from inference.loading import ModelLoadError
from inference.models import ModelRef
from inference.rework import (
    MASK_BLUR,
    MaskError,
    PanDirection,
    Placement,
    ReworkError,
    keep_alpha,
    make_again,
    pan_growth,
    pan_placement,
    read_mask,
    region_placement,
    square_placement,
    zoom_placement,
)
from tests.helpers.inference import FAST, plan
from tests.helpers.pngmeta import read_atelier, read_parameters

# --- geometry -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "native", "factor", "aspect", "canvas", "box"),
    [
        ((1024, 1024), 512, 2.0, None, (512, 512), (128, 128, 256, 256)),
        ((1024, 1024), 512, 1.5, None, (512, 512), (85, 85, 341, 341)),
        # 3:2 keeps its shape at ~512² pixels; sides are multiples of 64
        ((1216, 832), 512, 2.0, None, (640, 448), (160, 114, 320, 219)),
        # --ar 2:1 without zooming: the image keeps the whole height
        ((1024, 1024), 512, 1.0, (2, 1), (704, 384), (160, 0, 384, 384)),
        ((128, 128), 64, 2.0, None, (64, 64), (16, 16, 32, 32)),
    ],
)
def test_zoom_keeps_about_the_native_pixel_count_with_the_image_in_the_middle(
    source: tuple[int, int],
    native: int,
    factor: float,
    aspect: tuple[int, int] | None,
    canvas: tuple[int, int],
    box: tuple[int, int, int, int],
) -> None:
    placement = zoom_placement(source, native, factor, aspect)
    assert placement == Placement(canvas, box)
    if native >= 256:
        assert canvas[0] % 64 == 0
        assert canvas[1] % 64 == 0
    assert 0.8 < canvas[0] * canvas[1] / native**2 < 1.25


def test_a_zoom_that_adds_nothing_is_refused() -> None:
    with pytest.raises(ReworkError, match="nothing to add"):
        zoom_placement((1024, 1024), 512, 1.0)
    with pytest.raises(ReworkError, match="nothing to add"):
        zoom_placement((1024, 1024), 512, 1.0, (1, 1))
    with pytest.raises(ReworkError, match="from 1 to 2"):
        zoom_placement((1024, 1024), 512, 2.5)


def test_make_square_grows_the_short_side() -> None:
    placement = square_placement((1408, 768), 512)
    assert placement.canvas == (512, 512)
    x, y, width, height = placement.box
    assert (x, width) == (0, 512)
    assert height == round(768 * 512 / 1408)
    assert y == (512 - height) // 2


@pytest.mark.parametrize(
    ("direction", "canvas", "box"),
    [
        (PanDirection.RIGHT, (768, 512), (0, 0, 512, 512)),
        (PanDirection.LEFT, (768, 512), (256, 0, 512, 512)),
        (PanDirection.DOWN, (512, 768), (0, 0, 512, 512)),
        (PanDirection.UP, (512, 768), (0, 256, 512, 512)),
    ],
)
def test_pan_grows_the_canvas_by_half_in_its_direction(
    direction: PanDirection, canvas: tuple[int, int], box: tuple[int, int, int, int]
) -> None:
    assert pan_placement((1024, 1024), 512, direction, 2048) == Placement(canvas, box)


def test_pan_is_bounded_by_four_to_one_and_the_largest_side_of_its_canvas() -> None:
    # The canvas is made at about the native pixel count: 3:1 at 512² is 960×320, and
    # grows to 4:1 at most (1280×320): a third, not a half.
    placement = pan_placement((1536, 512), 512, PanDirection.RIGHT, 4096)
    assert placement == Placement((1280, 320), (0, 0, 960, 320))
    assert pan_growth((1536, 512), 512, PanDirection.RIGHT, 4096) == pytest.approx(1 / 3)
    assert pan_growth((2048, 512), 512, PanDirection.LEFT, 4096) is None  # 4:1 already
    assert pan_growth((2048, 512), 512, PanDirection.UP, 4096) == pytest.approx(0.5)
    # SDXL's 2048² upscale with the default largest side (2048) pans to 1536×1024.
    assert pan_growth((2048, 2048), 1024, PanDirection.RIGHT, 2048) == pytest.approx(0.5)
    # The largest side bounds the canvas made: 1024 + 512 passes 1280, 1024 + 256 does not.
    assert pan_growth((2048, 2048), 1024, PanDirection.RIGHT, 1280) == pytest.approx(0.25)
    assert pan_growth((2048, 2048), 1024, PanDirection.RIGHT, 1088) is None  # 1024 + 64
    with pytest.raises(ReworkError, match="4:1"):
        pan_placement((2048, 512), 512, PanDirection.RIGHT, 4096)


def test_region_is_the_image_at_the_native_pixel_count() -> None:
    assert region_placement((1024, 1024), 512) == Placement((512, 512), (0, 0, 512, 512))


# --- masks ----------------------------------------------------------------------------


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_mask_marks_its_bright_visible_pixels() -> None:
    drawn = Image.new("RGBA", (16, 8), (0, 0, 0, 0))
    ImageDraw.Draw(drawn).rectangle((2, 2, 5, 5), fill=(255, 255, 255, 255))
    drawn.putpixel((10, 1), (255, 255, 255, 0))  # painted but invisible: not marked
    drawn.putpixel((11, 1), (255, 255, 255, 100))  # the brush's faint edge: not marked
    drawn.putpixel((12, 1), (60, 60, 60, 255))  # dark grey: not marked
    drawn.putpixel((13, 1), (200, 200, 200, 255))  # bright enough
    mask = read_mask(_png(drawn), (16, 8))
    assert set(mask.tobytes()) == {0, 255}
    marked = np.asarray(mask) > 0
    assert marked.sum() == 17
    assert marked[2:6, 2:6].all()
    assert marked[1, 13]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a png", "must be a PNG"),
        (b"\x89PNG\r\n\x1a\ngarbage", "not a readable PNG"),
        (_png(Image.new("L", (8, 8), 255)), "8×8 but the image is 16×8"),
        (_png(Image.new("L", (16, 8), 0)), "Nothing is marked"),
    ],
)
def test_an_unusable_mask_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(MaskError, match=message):
        read_mask(data, (16, 8))


def test_the_seam_fades_from_kept_to_made_over_the_mask_blur() -> None:
    placement = Placement((64, 64), (16, 16, 32, 32))
    alpha = np.asarray(keep_alpha(make_again(placement, None), MASK_BLUR))
    assert (alpha[16 + MASK_BLUR : 48 - MASK_BLUR, 16 + MASK_BLUR : 48 - MASK_BLUR] == 255).all()
    assert (alpha[:16] == 0).all()
    row = alpha[32, 15 : 17 + MASK_BLUR]  # from the last pixel made again
    assert row[0] == 0
    assert row[-1] == 255
    assert (np.diff(row.astype(int)) >= 0).all()


# --- generation -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def source_png(tmp_path_factory: pytest.TempPathFactory, tiny_backend: DiffusersBackend) -> Path:
    """An image made by the tiny model, at twice its native side: an upscale's size."""
    image = tiny_backend.generate(plan(tiny_backend, "a lighthouse --seed 3"))[0]
    path = tmp_path_factory.mktemp("rework") / "source.png"
    image.resize((128, 128), Image.Resampling.LANCZOS).save(path)
    return path


def _zoom(backend: DiffusersBackend, source: Path, **changes: object) -> GenerationJob:
    parent = plan(backend, "a lighthouse --seed 7")
    job = plan_rework(
        parent,
        kind=JobKind.ZOOM,
        image_path=str(source),
        placement=zoom_placement((128, 128), backend.native_size, 2.0),
        defaults=FAST,
    )
    return replace(job, seed=7, **changes)  # type: ignore[arg-type]


def _scaled(path: Path, size: tuple[int, int]) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize(size, Image.Resampling.LANCZOS), np.int16)


def _check_kept_and_made(images: list[Image.Image], source: Path) -> None:
    """The middle 32×32 is the scaled original within rounding (away from the seam); the
    border is new."""
    original = _scaled(source, (32, 32))
    inner = slice(MASK_BLUR, 32 - MASK_BLUR)
    for image in images:
        made = np.asarray(image.convert("RGB"), np.int16)
        assert image.size == (64, 64)
        assert np.abs(made[16:48, 16:48][inner, inner] - original[inner, inner]).max() <= 1
        fill = original.reshape(-1, 3).mean(axis=0)
        assert np.abs(made[:8].reshape(-1, 3) - fill).mean() > 2


def test_a_zoom_on_the_loaded_model_keeps_the_original_exactly(
    tiny_backend: DiffusersBackend, source_png: Path
) -> None:
    job = _zoom(tiny_backend, source_png)
    images = tiny_backend.generate(job)
    _check_kept_and_made(images, source_png)
    again = tiny_backend.generate(job)
    assert [i.tobytes() for i in images] == [i.tobytes() for i in again]


def test_without_the_composite_the_kept_area_is_only_close(
    tiny_backend: DiffusersBackend, source_png: Path
) -> None:
    """What the composite is for: the pipeline's own output has the VAE's copy of the kept
    area, which the tiny VAE changes far beyond rounding."""
    job = _zoom(tiny_backend, source_png)
    pipe = tiny_backend._job_pipeline([job])
    from inference.rework import prepare_canvas

    assert job.placement is not None
    canvas = prepare_canvas(str(source_png), job.placement, None, MASK_BLUR)
    raw = pipe(
        prompt="a lighthouse",
        image=canvas.start,
        mask_image=canvas.mask,
        num_inference_steps=4,
        strength=1.0,
        width=64,
        height=64,
    ).images[0]
    kept = np.asarray(raw.convert("RGB"), np.int16)[24:40, 24:40]
    assert np.abs(kept - _scaled(source_png, (32, 32))[8:24, 8:24]).max() > 1


@pytest.fixture(scope="module")
def tiny_inpaint_backend(tiny_inpaint_dir: Path) -> DiffusersBackend:
    """The tiny dedicated inpainting model, loaded as the worker loads one."""
    return DiffusersBackend.load(
        ModelRef("tiny:1 (inpainting)", str(tiny_inpaint_dir), inpainting=True), "cpu"
    )


def test_a_dedicated_inpainting_checkpoint_runs_reworks(
    tiny_backend: DiffusersBackend,
    tiny_inpaint_backend: DiffusersBackend,
    tiny_inpaint_dir: Path,
    source_png: Path,
) -> None:
    assert tiny_inpaint_backend.pipeline.unet.config.in_channels == 9
    checkpoint = InpaintCheckpoint("tiny:1", str(tiny_inpaint_dir))
    job = _zoom(tiny_backend, source_png)
    rework = job.rework
    assert rework is not None
    dedicated = replace(job, rework=replace(rework, checkpoint=checkpoint))
    images = tiny_inpaint_backend.generate(dedicated)
    _check_kept_and_made(images, source_png)
    # A different UNet drew the border.
    plain = tiny_backend.generate(job)
    assert np.abs(np.asarray(images[0], np.int16) - np.asarray(plain[0], np.int16)).max() > 0
    assert batch_key(job) != batch_key(dedicated)


def test_an_inpainting_checkpoint_runs_nothing_else(
    tiny_inpaint_backend: DiffusersBackend,
) -> None:
    with pytest.raises(ValueError, match="reworks only"):
        tiny_inpaint_backend.generate(plan(tiny_inpaint_backend, "a lighthouse"))


def test_a_model_is_loaded_as_the_kind_it_is(tiny_model_dir: Path, tiny_inpaint_dir: Path) -> None:
    with pytest.raises(ModelLoadError, match="9-channel"):
        DiffusersBackend.load(ModelRef("x", str(tiny_model_dir), inpainting=True), "cpu")
    with pytest.raises(ModelLoadError, match="text-to-image"):
        DiffusersBackend.load(ModelRef("x", str(tiny_inpaint_dir)), "cpu")


def test_a_region_changes_only_what_is_marked(
    tiny_backend: DiffusersBackend, source_png: Path, tmp_path: Path
) -> None:
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).rectangle((0, 64, 127, 127), fill=255)  # the lower half
    mask_path = tmp_path / "mask.png"
    mask.save(mask_path)
    parent = plan(tiny_backend, "a lighthouse --seed 7")
    job = plan_rework(
        parent,
        kind=JobKind.REGION,
        image_path=str(source_png),
        placement=region_placement((128, 128), 64),
        mask=(str(mask_path), "0" * 64),
        defaults=FAST,
    )
    original = _scaled(source_png, (64, 64))
    for image in tiny_backend.generate(job):
        made = np.asarray(image.convert("RGB"), np.int16)
        # The marks reach row 31 once scaled; the seam is MASK_BLUR above that.
        assert np.abs(made[: 31 - MASK_BLUR] - original[: 31 - MASK_BLUR]).max() <= 1
        assert np.abs(made[32:] - original[32:]).mean() > 2


def test_reworks_with_different_masks_share_a_batch_and_keep_their_pixels(
    tiny_backend: DiffusersBackend, source_png: Path, tmp_path: Path
) -> None:
    """Init images and masks go to the pipeline per row, so two regions of different
    images batch together and each comes out as it would alone."""
    jobs = []
    for n, box in enumerate(((0, 0, 63, 127), (64, 0, 127, 127))):
        mask = Image.new("L", (128, 128), 0)
        ImageDraw.Draw(mask).rectangle(box, fill=255)
        mask.save(tmp_path / f"m{n}.png")
        parent = plan(tiny_backend, f"a lighthouse number {n} --seed {n}")
        jobs.append(
            plan_rework(
                parent,
                kind=JobKind.REGION,
                image_path=str(source_png),
                placement=region_placement((128, 128), 64),
                mask=(str(tmp_path / f"m{n}.png"), str(n) * 64),
                defaults=FAST,
            )
        )
    jobs = [replace(job, seed=n) for n, job in enumerate(jobs)]
    assert batch_key(jobs[0]) == batch_key(jobs[1])
    together = tiny_backend.generate_batch(jobs)
    for job, images in zip(jobs, together, strict=True):
        alone = tiny_backend.generate(job)
        assert [i.tobytes() for i in images] == [i.tobytes() for i in alone]


def test_the_batch_key_keeps_txt2img_img2img_and_reworks_apart(
    tiny_backend: DiffusersBackend, source_png: Path
) -> None:
    txt2img = plan(tiny_backend, "a lighthouse")
    img2img = replace(txt2img, init_image=str(source_png), strength=1.0)
    rework = _zoom(tiny_backend, source_png)
    keys = {batch_key(job) for job in (txt2img, img2img, replace(rework, width=64, height=64))}
    assert len(keys) == 3


def test_a_reworks_png_carries_what_regenerates_it_and_no_path(
    tiny_backend: DiffusersBackend, source_png: Path, tmp_path: Path
) -> None:
    """A1111's fields for inpainting (denoising strength, mask blur), and the atelier
    record: the mask by its hash, the inpainting checkpoint by key and hash, never a path."""
    data = tmp_path / "data"
    mask_path = data / "inputs" / "mask.png"
    mask_path.parent.mkdir(parents=True)
    mask = Image.new("L", (128, 128), 0)
    ImageDraw.Draw(mask).rectangle((10, 10, 60, 60), fill=255)
    mask.save(mask_path)
    mask_sha = hashlib.sha256(mask_path.read_bytes()).hexdigest()
    job = plan_rework(
        plan(tiny_backend, "a lighthouse --seed 7"),
        kind=JobKind.REGION,
        image_path=str(source_png),
        placement=region_placement((128, 128), 64),
        mask=(str(mask_path), mask_sha),
        defaults=FAST,
    )
    paths = [data / "images" / f"{n}.png" for n in range(4)]
    saved = render(tiny_backend, job, paths, data / "images" / "grid.png")
    parameters = read_parameters(saved[0].path) or ""
    assert "Denoising strength: 1," in parameters
    assert f"Mask blur: {MASK_BLUR}" in parameters
    record = read_atelier(saved[0].path)
    assert record is not None
    assert str(data) not in json.dumps(record)
    assert record["job"]["rework"]["mask_sha256"] == mask_sha
    assert record["job"]["rework"]["box"] == [0, 0, 64, 64]
    assert record["job"]["init_image_sha256"] == hashlib.sha256(source_png.read_bytes()).hexdigest()
    # With a dedicated checkpoint: its version key and hash, not where it is.
    checkpoint = InpaintCheckpoint("tiny:1", str(data / "inpaint.safetensors"), "cd" * 32)
    rework = job.rework
    assert rework is not None
    record = public_record(replace(job, rework=replace(rework, checkpoint=checkpoint)))
    assert str(data) not in json.dumps(record)
    assert record["rework"]["checkpoint"] == {"key": "tiny:1", "sha256": "cd" * 32}  # type: ignore[index]


def test_sdxl_reworks_through_its_own_inpainting_pipeline(
    tiny_sdxl_backend: DiffusersBackend, source_png: Path
) -> None:
    images = tiny_sdxl_backend.generate(_zoom(tiny_sdxl_backend, source_png))
    _check_kept_and_made(images, source_png)
