"""A job's page: the grid and each image at full size, the prompt (as text to copy), the
images it was made from (image prompts, a /blend's images), every parameter, the seed of
each image, the model, lineage and ❤."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from db.jobs import JobKind, JobRecord, get_job, list_images
from db.users import count_favorites
from inference.jobs import GenerationJob
from studio.input_images import (
    ATTACHMENT_PREFIX,
    InputImage,
    image_weight_text,
    input_images,
    is_blend,
)
from studio.public_work import public_children, public_ids, public_job
from web.context import CONTEXT
from web.inputs import inputs_label
from web.names import names_of
from web.pages.images import PUBLIC_ID, image_path, input_path
from web.render import render

routes = web.RouteTableDef()

#: A prompt longer than this is cut in the Open Graph card's text (the page shows it all).
CARD_PROMPT_CHARS = 200

#: Stored request fields shown elsewhere on the page (LoRAs from the job's own record, which
#: says which version ran) or shown below in their own words, or not a member's parameter.
_NOT_PARAMETERS = {
    "prompt",
    "parts",
    "negative_prompt",
    "model",
    "seed",
    "steps",
    "sampler",
    "loras",
    "guidance",
    "recommended",
    "image_urls",
    "image_weight",
}

#: How the recommended settings a job records are named on its page.
_RECOMMENDED_NAMES = {"steps": "steps", "sampler": "sampler", "cfg": "CFG"}


@dataclass(frozen=True)
class LoraShown:
    """A LoRA a job ran with: ``name@version ×weight``, linked to its row on /models."""

    key: str
    text: str


def loras_of(job: JobRecord) -> list[LoraShown]:
    """The LoRA versions the job ran with, at the weights it used."""
    shown = []
    for lora in job.params.get("loras") or []:
        key = str(lora["key"])
        name, _, version = key.partition(":")
        label = f"{name}@{version}" if version else name
        shown.append(LoraShown(key, f"{label} ×{float(lora['weight']):g}"))
    return shown


def recommended_applied(job: JobRecord) -> list[str]:
    """The creators' recommended settings that took effect in this job, one short line each."""
    recorded: dict[str, str] = (job.params.get("request") or {}).get("recommended") or {}
    order = [*_RECOMMENDED_NAMES, "negative_prompt"]
    lines = []
    for setting in sorted(recorded, key=lambda s: order.index(s) if s in order else len(order)):
        value = recorded[setting]
        if setting == "negative_prompt":
            lines.append(f"negative prompt: {value}")
        else:
            lines.append(f"{_RECOMMENDED_NAMES.get(setting, setting.replace('_', ' '))} {value}")
    return lines


def job_path(public_id: str) -> str:
    return f"/j/{public_id}"


def parameters(job: JobRecord) -> list[tuple[str, str]]:
    """Every generation parameter stored with the job, as (name, value) to show."""
    params = job.params
    request: dict[str, Any] = params.get("request") or {}
    shown = [
        ("Size", f"{params.get('width')}×{params.get('height')}"),
        ("Steps", str(params.get("steps"))),
        ("Sampler", str(params.get("sampler"))),
        ("Seed of the job", str(params.get("seed"))),
    ]
    if params.get("strength") is not None:
        shown.append(("Strength (img2img)", f"{params['strength']:g}"))
    if request.get("guidance") is not None:
        shown.append(("CFG", f"{float(request['guidance']):g}"))
    for name, value in sorted(request.items()):
        if name in _NOT_PARAMETERS or value is None:
            continue
        if name == "aspect" and isinstance(value, list):
            value = ":".join(str(part) for part in value)
        shown.append((name.replace("_", " ").capitalize(), str(value)))
    parts = request.get("parts") or []
    if len(parts) > 1:
        shown.append(
            ("Multi-prompt", " · ".join(f"{part['text']} ::{part['weight']:g}" for part in parts))
        )
    return shown


def copy_remakes(job: JobRecord) -> bool:
    """Whether :func:`copy_text` makes this job again. A CFG the job took from a model's
    recommended settings has no prompt flag: a later run gets whatever is recommended then."""
    return (job.params.get("request") or {}).get("guidance") is None


@dataclass(frozen=True)
class InputsShown:
    """The images a job was made from, as its page shows them."""

    #: "2 image prompts" or "/blend of 3 images".
    label: str
    blend: bool
    #: "--iw 1.5": how much the images counted against the text (not said of a blend).
    weight: str
    images: list[InputImage]


def inputs_of(job: JobRecord) -> InputsShown | None:
    """The job's image prompts or /blend images; None for a job made from text alone."""
    if not job.params.get("image_prompts"):
        return None
    planned = GenerationJob.from_params(job.params)
    blend = is_blend(planned)
    label = inputs_label(len(planned.image_prompts), blend=blend)
    return InputsShown(label, blend, image_weight_text(planned), input_images(planned))


def uncopied_attachments(job: JobRecord) -> int:
    """How many of the job's images were attachments, which no prompt can give again (the
    URLs are in :func:`copy_text`)."""
    sources = [image.get("source", "") for image in job.params.get("image_prompts") or []]
    return sum(1 for source in sources if str(source).startswith(ATTACHMENT_PREFIX))


def copy_text(job: JobRecord) -> str:
    """The prompt (with its LoRA tags) and the flags that make this job again: paste it into
    /imagine. Image prompts given by URL come first, as Midjourney writes them (attachments
    cannot be: see :func:`uncopied_attachments`). See :func:`copy_remakes` for the one
    setting no flag carries."""
    params = job.params
    request: dict[str, Any] = params.get("request") or {}
    urls = [
        str(image["source"])
        for image in params.get("image_prompts") or []
        if not str(image.get("source", "")).startswith(ATTACHMENT_PREFIX)
    ]
    flags = []
    aspect = request.get("aspect") or [1, 1]
    if list(aspect) != [1, 1]:
        flags.append(f"--ar {aspect[0]}:{aspect[1]}")
    if request.get("negative_prompt"):
        flags.append(f"--no {request['negative_prompt']}")
    for flag, name, default in (
        ("--c", "chaos", 0),
        ("--s", "stylize", 100),
        ("--q", "quality", 1),
        ("--stop", "stop", 100),
    ):
        if request.get(name, default) != default:
            flags.append(f"{flag} {request[name]:g}")
    if request.get("tile"):
        flags.append("--tile")
    if params.get("image_prompts") and request.get("image_weight", 1) != 1:
        flags.append(f"--iw {float(request['image_weight']):g}")
    flags += [
        f"--seed {params.get('seed')}",
        f"--steps {params.get('steps')}",
        f"--sampler {params.get('sampler')}",
        f"--model {job.model}",
    ]
    prompt = str(request.get("prompt", job.prompt))
    return " ".join(part for part in [*urls, prompt, *flags] if part)


def lineage_word(kind: JobKind) -> str:
    return {
        JobKind.IMAGINE: "imagine",
        JobKind.REROLL: "re-roll",
        JobKind.VARIATION: "variation",
        JobKind.UPSCALE: "upscale",
        JobKind.ZOOM: "zoom out",
        JobKind.PAN: "pan",
        JobKind.SQUARE: "make square",
        JobKind.REGION: "vary region",
    }[kind]


@routes.get(f"/j/{PUBLIC_ID}")
async def job_page(request: web.Request) -> web.Response:
    db = request.app[CONTEXT].db
    public_id = request.match_info["public_id"]
    found = await public_job(db, public_id)
    record = None if found is None else await get_job(db, found.id)
    if found is None or record is None:
        raise web.HTTPNotFound()
    images = await list_images(db, record.id)
    hearts = [await count_favorites(db, record.id, image.index) for image in images]
    parent = None
    if record.parent_job_id is not None:
        parent = (await public_ids(db, [record.parent_job_id])).get(record.parent_job_id, "")
    children = await public_children(db, record.id)
    inputs = inputs_of(record)
    prompt = str((record.params.get("request") or {}).get("prompt", record.prompt))
    if not prompt.strip() and inputs is not None:
        prompt = inputs.label  # a /blend: images, no text
    negative = str((record.params.get("request") or {}).get("negative_prompt") or "")
    card_text = prompt if len(prompt) <= CARD_PROMPT_CHARS else prompt[:CARD_PROMPT_CHARS] + "…"
    names = await names_of(db, [record.owner_id])
    return render(
        request,
        "job.html",
        title=f"{card_text} — by {names[record.owner_id]}",
        description=f"{lineage_word(record.kind).capitalize()} with {record.model}, "
        f"{len(images)} image{'s' if len(images) != 1 else ''}.",
        og_image=image_path(public_id, 1) if images else "/card.png",
        job=record,
        public=found,
        owner=names[record.owner_id],
        prompt=prompt,
        negative=negative,
        images=list(zip(images, hearts, strict=True)),
        parameters=parameters(record),
        loras=loras_of(record),
        recommended=recommended_applied(record),
        copy=copy_text(record),
        copy_remakes=copy_remakes(record),
        uncopied=uncopied_attachments(record),
        inputs=inputs,
        input_path=input_path,
        parent=parent,
        children=children,
        kind=lineage_word(record.kind),
        model_name=record.model.partition(":")[0],
        image_path=image_path,
        job_path=job_path,
        lineage_word=lineage_word,
    )
