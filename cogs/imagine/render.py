"""The words on a job's message, Midjourney style: "**prompt** — @user (31%) (standard)"."""

from __future__ import annotations

from db.jobs import JobKind, JobRecord
from inference.jobs import EngineDefaults, GenerationJob
from inference.params import ImagineRequest
from inference.rework import PanDirection, Placement
from studio.input_images import image_weight_text, input_images, is_blend

#: Discord allows 2000 characters per message; the prompt gets most of it.
MAX_PROMPT_CHARS = 1500


def prompt_text(request: ImagineRequest) -> str:
    """The prompt with the flags that changed something, so it can be pasted again."""
    flags = []
    if request.aspect != (1, 1):
        flags.append(f"--ar {request.aspect[0]}:{request.aspect[1]}")
    if request.negative_prompt:
        flags.append(f"--no {request.negative_prompt}")
    if request.chaos:
        flags.append(f"--c {request.chaos}")
    if request.stylize != 100:
        flags.append(f"--s {request.stylize}")
    if request.quality != 1:
        flags.append(f"--q {request.quality:g}")
    if request.stop != 100:
        flags.append(f"--stop {request.stop}")
    if request.tile:
        flags.append("--tile")
    if request.image_weight != 1:
        flags.append(f"--iw {request.image_weight:g}")
    text = _escape(" ".join(part for part in [request.prompt, *flags] if part))
    if len(text) > MAX_PROMPT_CHARS:
        text = text[: MAX_PROMPT_CHARS - 1]
        if (len(text) - len(text.rstrip("\\"))) % 2:  # do not leave half an escape
            text = text[:-1]
        text += "…"
    return text


def header(
    job: GenerationJob, owner_id: int, parent_index: int | None, defaults: EngineDefaults
) -> str:
    """ "**prompt** — @owner", with what kind of follow-up the job is."""
    prompt = f"**{title(job)}**"
    label = inputs_label(job)
    if label is not None and not is_blend(job):
        prompt += f" + {label}"
    owner = f"<@{owner_id}>"
    made_by = follow_up(job, defaults)
    if made_by is not None:
        return f"{prompt} — {made_by} by {owner}"
    if job.kind is JobKind.UPSCALE:
        number = "" if parent_index is None else f" #{parent_index + 1}"
        return f"{prompt} — Image{number} {owner}"
    if job.kind is JobKind.REROLL:
        return f"{prompt} — {owner} (re-roll)"
    return f"{prompt} — {owner}"


def inputs_label(job: GenerationJob) -> str | None:
    """ "2 image prompts", "1 image prompt", or "/blend of 3 images"; None without images.
    One image without words (``/imagine`` with an attachment alone) is no blend: "1 image
    prompt"."""
    count = len(job.image_prompts)
    if not count:
        return None
    if is_blend(job) and count > 1:
        return f"/blend of {count} images"
    return f"{count} image prompt{'s' if count != 1 else ''}"


def title(job: GenerationJob) -> str:
    """What a job's messages show as its prompt: the prompt with its flags, or for a
    /blend (images, no text) "/blend of 3 images" and its flags."""
    text = prompt_text(job.request)
    if not is_blend(job):
        return text
    return " ".join(part for part in [inputs_label(job), text] if part)


def summary(job: GenerationJob, chars: int) -> str:
    """A job in one short line (``/info``'s list): its prompt (with ``--iw`` when it is
    not 1) cut to ``chars``, and the image prompts it has."""
    text = title(job)[:chars]
    label = inputs_label(job)
    if label is None or is_blend(job):
        return text
    return f"{text} + {label}"


def inputs_below(job: GenerationJob, attached: int) -> str:
    """The line under a re-posted job (/show) that says what the thumbnails after its
    result are: "2 image prompts (--iw 1.5): attached below"; "" without images."""
    label = inputs_label(job)
    if label is None:
        return ""
    if not is_blend(job):
        label = f"{label} ({image_weight_text(job)})"
    total = len(job.image_prompts)
    if attached == total:
        return f"\n{label}: attached below"
    if attached == 0:
        return f"\n{label}: no longer stored"
    return f"\n{label}: {attached} of {total} attached below, the others no longer stored"


#: The most characters of where one input image came from in a job's Info (a URL may be
#: long; five lines must fit in one embed field).
_INPUT_ORIGIN_CHARS = 160


def inputs_field(job: GenerationJob) -> tuple[str, str] | None:
    """The Info field of a job made from images: its name ("2 image prompts, --iw 1.5" or
    "/blend of 3 images") and one line per image, where it came from and its hash."""
    label = inputs_label(job)
    if label is None:
        return None
    name = label if is_blend(job) else f"{label}, {image_weight_text(job)}"
    lines = []
    for image in input_images(job):
        # As code: a member's URL or file name is shown as typed, never as Markdown.
        origin = image.origin.replace("`", "'")
        if len(origin) > _INPUT_ORIGIN_CHARS:
            origin = origin[: _INPUT_ORIGIN_CHARS - 1] + "…"
        lines.append(f"{image.number}. `{origin}` · sha256 {image.short_hash}")
    return name, "\n".join(lines)


_PAN_ARROWS = {
    PanDirection.LEFT: "⬅️",
    PanDirection.RIGHT: "➡️",
    PanDirection.UP: "⬆️",
    PanDirection.DOWN: "⬇️",
}


def follow_up(job: GenerationJob, defaults: EngineDefaults) -> str | None:
    """What made ``job``, as its button says: "Variations (Subtle)", "Zoom Out 2×",
    "Pan ⬅️", "Make Square", "Vary (Region)", "Upscale (Creative)"; None for an
    ``/imagine``, a re-roll or a U*n* upscale."""
    if job.kind is JobKind.VARIATION:
        middle = (defaults.subtle_strength + defaults.strong_strength) / 2
        return f"Variations ({'Strong' if (job.strength or 0) > middle else 'Subtle'})"
    if job.kind is JobKind.UPSCALE:
        # U*n* and Upscale 2× run at upscale_strength: those are plain upscales.
        if job.strength == defaults.upscale_strength:
            return None
        if job.strength == defaults.upscale_subtle_strength:
            return "Upscale (Subtle)"
        if job.strength == defaults.upscale_creative_strength:
            return "Upscale (Creative)"
        return None
    if job.kind is JobKind.SQUARE:
        return "Make Square"
    if job.kind is JobKind.REGION:
        return "Vary (Region)"
    placement = job.placement
    if placement is None:
        return None
    if job.kind is JobKind.ZOOM:
        factor = zoom_factor(placement)
        return "Custom Zoom" if factor is None else f"Zoom Out {factor:g}×"
    if job.kind is JobKind.PAN:
        return f"Pan {_PAN_ARROWS[pan_direction(placement)]}"
    return None


def zoom_factor(placement: Placement) -> float | None:
    """How far a zoom went out, to a tenth: the canvas's width over the image's (the side
    a zoom that keeps the image's shape sizes exactly; the canvas's height is rounded to
    the model's multiple). None when the canvas has another shape than the image (a Custom
    Zoom with a new ``--ar``): no one factor describes it."""
    (width, height), (_, _, inner_width, inner_height) = placement.canvas, placement.box
    shape = (width / height) / (inner_width / inner_height)
    if abs(shape - 1) > _SAME_SHAPE:
        return None
    return round(width / inner_width, 1)


#: How far a canvas's shape may stray from its image's by rounding alone (a 3:2 image at
#: 512 px makes a canvas of 640×384).
_SAME_SHAPE = 0.15


def pan_direction(placement: Placement) -> PanDirection:
    """Which way a pan went: the side that grew most, towards where the image is not."""
    (width, height), (x, y, inner_width, inner_height) = placement.canvas, placement.box
    if width * inner_height > height * inner_width:  # grew more across than down
        return PanDirection.LEFT if x > 0 else PanDirection.RIGHT
    return PanDirection.UP if y > 0 else PanDirection.DOWN


def waiting(head: str, position: int | None) -> str:
    where = f", position {position}" if position is not None else ""
    return f"{head} (Waiting to start{where})"


def running(head: str, percent: int, lane: str) -> str:
    return f"{head} ({percent}%) ({lane})"


def done(head: str, job: GenerationJob) -> str:
    size = f"{job.width}×{job.height}"
    if job.kind is JobKind.UPSCALE:
        return f"{head} · {size}, seed {job.seed}, model {_escape(job.model)}"
    return f"{head} · seed {job.seed}, model {_escape(job.model)}, {size}"


def result_below(head: str) -> str:
    """The status message once the result was posted as a reply to it."""
    return f"{head} — done: the result is in the reply below"


def failed(head: str, reason: str) -> str:
    return f"{head} — ⚠️ this job failed: {reason}"


def cancelled(head: str) -> str:
    return f"{head} — cancelled"


def describe(record: JobRecord, defaults: EngineDefaults) -> str:
    """One lineage step: "#12 imagine", "#15 upscale of image 2 of #12", "#18 Zoom Out 2×
    of #15"."""
    if record.parent_job_id is None:
        return f"#{record.id} {record.kind.value}"
    of_parent = made_from(record, defaults)
    if of_parent is not None:
        return f"#{record.id} {of_parent}"
    if record.kind is JobKind.REROLL:
        return f"#{record.id} re-roll of #{record.parent_job_id}"
    return (
        f"#{record.id} {record.kind.value} of image {(record.parent_index or 0) + 1} "
        f"of #{record.parent_job_id}"
    )


def made_from(record: JobRecord, defaults: EngineDefaults) -> str | None:
    """ "Zoom Out 2× of #15": what a rework of an upscaled image is (an upscale has one
    image, so it is not numbered); None for any other job."""
    if record.parent_job_id is None or record.kind in (JobKind.VARIATION, JobKind.REROLL):
        return None
    made_by = follow_up(GenerationJob.from_params(record.params), defaults)
    return None if made_by is None else f"{made_by} of #{record.parent_job_id}"


def _escape(text: str) -> str:
    """Keep a prompt's own asterisks and underscores from turning into Markdown."""
    for char in ("\\", "*", "_", "~", "`", "|"):
        text = text.replace(char, "\\" + char)
    return text
