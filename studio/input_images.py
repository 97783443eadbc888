"""A job's input images as members see them: the image prompts of an /imagine (weighted by
``--iw``) or the images of a /blend, where each came from, and small thumbnails of the
checked copies the studio keeps in the data folder's inputs.

Plain values only: Discord (/show, Info), the web studio's job page and the command line
word them, in the same words: "image prompt(s)" for an /imagine, "/blend of N images" for
a blend (a job with images and no text).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from core.paths import write_at_once
from inference.jobs import GenerationJob, ImagePrompt

#: What a job's ``ImagePrompt.source`` starts with when the image was an uploaded file.
ATTACHMENT_PREFIX = "attachment:"
#: The inputs' subfolder where thumbnails are kept once made.
SMALL_FOLDER = "small"
#: A thumbnail's longest side, in pixels: enough to recognise the image, a few KB.
THUMBNAIL_SIDE = 256
#: The most pixels a stored copy may have for a thumbnail to be made of it (under Pillow's
#: own decompression-bomb warning). The studio checked every copy against the operator's cap
#: when it was taken in; this bounds the work (and memory) of decoding one again, whatever
#: is found on disk.
MAX_THUMBNAIL_SOURCE_PIXELS = 80_000_000


@dataclass(frozen=True)
class InputImage:
    """One of a job's input images, numbered from 1 as members count them."""

    number: int
    prompt: ImagePrompt

    @property
    def url(self) -> str | None:
        """The URL the member typed; None for an attachment."""
        source = self.prompt.source
        return None if source.startswith(ATTACHMENT_PREFIX) else source

    @property
    def file_name(self) -> str | None:
        """An attachment's file name; None for a URL."""
        source = self.prompt.source
        return source[len(ATTACHMENT_PREFIX) :] if source.startswith(ATTACHMENT_PREFIX) else None

    @property
    def short_hash(self) -> str:
        """The checked copy's SHA-256, shortened as model sites shorten hashes."""
        return self.prompt.sha256[:10]

    @property
    def origin(self) -> str:
        """Where it came from, in words: the URL, or "attachment fox.png"."""
        name = self.file_name
        return self.prompt.source if name is None else f"attachment {name}"


def input_images(job: GenerationJob) -> list[InputImage]:
    return [InputImage(number, prompt) for number, prompt in enumerate(job.image_prompts, 1)]


def is_blend(job: GenerationJob) -> bool:
    """A /blend: images and no text."""
    return bool(job.image_prompts) and not job.request.prompt.strip()


def image_weight_text(job: GenerationJob) -> str:
    """``--iw`` as a member writes it: "--iw 1.5"."""
    return f"--iw {job.request.image_weight:g}"


def thumbnail_jpeg(path: Path, side: int = THUMBNAIL_SIDE) -> bytes:
    """A small JPEG of the image at ``path`` (its longest side at most ``side``). Raises
    ValueError for an image too large to decode again (see MAX_THUMBNAIL_SOURCE_PIXELS) and
    OSError for a file that is not an image."""
    with Image.open(path) as opened:
        width, height = opened.size
        if width * height > MAX_THUMBNAIL_SOURCE_PIXELS:  # read from the header: not decoded
            raise ValueError(f"{path.name} has {width}×{height} pixels: too many for a thumbnail")
        opened.thumbnail((side, side), Image.Resampling.LANCZOS)
        image = opened.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def cached_thumbnail(inputs_dir: Path, path: Path) -> bytes:
    """:func:`thumbnail_jpeg` of ``path`` (a stored copy inside ``inputs_dir``), kept in
    the inputs' ``small`` folder so it is made once; made again when the copy is newer. A
    folder that cannot be written (a read-only data folder) only costs the keeping."""
    relative = path.resolve().relative_to(inputs_dir.resolve())
    # Named by the copy's place, so two copies never share a thumbnail.
    name = hashlib.sha256(relative.as_posix().encode()).hexdigest()[:32]
    kept = inputs_dir / SMALL_FOLDER / f"{name}.jpg"
    try:
        if kept.stat().st_mtime >= path.stat().st_mtime:
            return kept.read_bytes()
    except OSError:
        pass
    data = thumbnail_jpeg(path)
    with contextlib.suppress(OSError):
        write_at_once(kept, data)
    return data
