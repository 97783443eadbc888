"""The words on a job's message, Midjourney style: "**prompt** — @user (31%) (standard)"."""

from __future__ import annotations

from db.jobs import JobKind, JobRecord
from inference.jobs import EngineDefaults, GenerationJob
from inference.params import ImagineRequest

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
    text = _escape(" ".join([request.prompt, *flags]))
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
    prompt = f"**{prompt_text(job.request)}**"
    owner = f"<@{owner_id}>"
    if job.kind is JobKind.VARIATION:
        middle = (defaults.subtle_strength + defaults.strong_strength) / 2
        label = "Strong" if (job.strength or 0) > middle else "Subtle"
        return f"{prompt} — Variations ({label}) by {owner}"
    if job.kind is JobKind.UPSCALE:
        number = "" if parent_index is None else f" #{parent_index + 1}"
        return f"{prompt} — Image{number} {owner}"
    if job.kind is JobKind.REROLL:
        return f"{prompt} — {owner} (re-roll)"
    return f"{prompt} — {owner}"


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


def describe(record: JobRecord) -> str:
    """One lineage step: "#12 imagine", "#15 upscale of image 2 of #12"."""
    if record.parent_job_id is None:
        return f"#{record.id} {record.kind.value}"
    if record.kind is JobKind.REROLL:
        return f"#{record.id} re-roll of #{record.parent_job_id}"
    return (
        f"#{record.id} {record.kind.value} of image {(record.parent_index or 0) + 1} "
        f"of #{record.parent_job_id}"
    )


def _escape(text: str) -> str:
    """Keep a prompt's own asterisks and underscores from turning into Markdown."""
    for char in ("\\", "*", "_", "~", "`", "|"):
        text = text.replace(char, "\\" + char)
    return text
