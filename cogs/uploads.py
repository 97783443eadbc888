"""Images as Discord uploads: the result within the channel's size limit, and previews."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import discord
from PIL import Image

from core.paths import file_inside
from inference.jobs import GenerationJob
from studio.input_images import cached_thumbnail, input_images

#: A progress preview's longest side: enough to see the composition, cheap to upload.
PREVIEW_SIDE = 256
#: When a PNG is over the limit: JPEG qualities to try, best first, then halve the size.
_JPEG_QUALITIES = (95, 90, 80, 70)
#: Discord's upload limit for servers without boosts; used when no limit is known.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file's name and bytes; a fresh ``discord.File`` is made for every attempt to send."""

    filename: str
    data: bytes

    def file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)


def result_upload(path: Path, limit: int) -> Upload:
    """The PNG as it is if it fits in ``limit`` bytes; otherwise re-encoded as high-quality
    JPEG (quality 95 down to 70), and only if that is still too big, at half the size."""
    data = path.read_bytes()
    if len(data) <= limit:
        return Upload(path.name, data)
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    while True:
        for quality in _JPEG_QUALITIES:
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=quality, optimize=True)
            if buffer.tell() <= limit:
                return Upload(path.with_suffix(".jpg").name, buffer.getvalue())
        if min(image.size) <= 16:
            raise ValueError(f"{path.name} cannot be made smaller than {limit} bytes")
        image = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


def preview_upload(preview: Image.Image) -> Upload:
    """A blurry progress preview as a small JPEG."""
    image = preview.convert("RGB")
    scale = PREVIEW_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70)
    return Upload("preview.jpg", buffer.getvalue())


def input_uploads(inputs_dir: Path, job: GenerationJob) -> list[Upload]:
    """Small JPEGs of the images a job was made from (its image prompts, or a /blend's
    images), ``input-1.jpg``, ``input-2.jpg``…; an image no longer stored is left out."""
    uploads = []
    for image in input_images(job):
        path = file_inside(inputs_dir, image.prompt.path)
        if path is None:
            continue
        try:
            data = cached_thumbnail(inputs_dir, path)
        except (OSError, ValueError):  # not an image, or too large to decode again
            continue
        uploads.append(Upload(f"input-{image.number}.jpg", data))
    return uploads
