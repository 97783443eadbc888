"""How the web names a job made from images: "2 image prompts", or "/blend of 3 images" for
a blend (images and no text), as Discord and the command line name them."""

from __future__ import annotations

from studio.public_work import PublicJob


def inputs_label(count: int, *, blend: bool) -> str:
    if blend and count > 1:  # one image without words is an image prompt alone
        return f"/blend of {count} images"
    return f"{count} image prompt{'s' if count != 1 else ''}"


def listed_title(job: PublicJob) -> str:
    """What names a public job in a listing: its prompt, or what a /blend blended."""
    if job.inputs and not job.prompt.strip():
        return inputs_label(job.inputs, blend=True)
    return job.prompt
