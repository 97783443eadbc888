"""Jobs made from images, as the studio records them: small PNG copies written into the data
folder's inputs with their SHA-256, and the job's parameters saying so (``image_prompts``,
``--iw``; a /blend has no text). Built directly, so tests of how they are shown need no
image intake and no IP-Adapter."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from db.database import Database
from inference.jobs import ImagePrompt

#: Where two image prompts came from: a URL a member typed and an uploaded file.
URL_SOURCE = "https://cdn.discordapp.com/attachments/1/2/red_fox.png?ex=abc&is=def"
ATTACHMENT_SOURCE = "attachment:fox sketch.png"


def inputs_dir_of(images_dir: Path) -> Path:
    """The data folder's inputs, beside its images (where the studio keeps them)."""
    return images_dir.parent / "inputs"


def input_png(number: int, size: tuple[int, int] = (300, 200)) -> bytes:
    """A small PNG of one colour per ``number``, larger than a thumbnail."""
    colour = ((number * 80) % 256, (number * 150) % 256, (number * 40 + 90) % 256)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def write_inputs(inputs_dir: Path, sources: Sequence[str]) -> tuple[ImagePrompt, ...]:
    """One stored PNG copy per source, named by its SHA-256 like the studio's inputs."""
    inputs_dir.mkdir(parents=True, exist_ok=True)
    prompts = []
    for number, source in enumerate(sources, start=1):
        data = input_png(number)
        digest = hashlib.sha256(data).hexdigest()
        path = inputs_dir / f"image-{digest}.png"
        path.write_bytes(data)
        prompts.append(ImagePrompt(path=str(path), sha256=digest, source=source))
    return tuple(prompts)


async def give_image_prompts(
    db: Database,
    job_id: int,
    prompts: Sequence[ImagePrompt],
    *,
    image_weight: float = 1.0,
    blend: bool = False,
) -> None:
    """Make job ``job_id`` one that was made from ``prompts`` (weighted ``--iw
    image_weight``); with ``blend``, a /blend: its text is taken away."""
    row = await db.fetchone("SELECT params, prompt FROM jobs WHERE id = ?", (job_id,))
    assert row is not None, job_id
    params = json.loads(row["params"])
    params["image_prompts"] = [prompt.to_params() for prompt in prompts]
    request = params["request"]
    request["image_weight"] = image_weight
    request["image_urls"] = [p.source for p in prompts if not p.source.startswith("attachment:")]
    prompt = row["prompt"]
    if blend:
        request["prompt"], request["parts"], request["image_urls"] = "", [], []
        prompt = ""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE jobs SET params = ?, prompt = ? WHERE id = ?",
            (json.dumps(params), prompt, job_id),
        )
