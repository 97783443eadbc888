"""Generation data inside PNG files, in the format other tools and model sites read.

AUTOMATIC1111's WebUI stores it in a ``parameters`` text chunk::

    a lighthouse at dusk
    Negative prompt: fog, people
    Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 42, Size: 704x384, Model: sd15

Civitai, ComfyUI loaders and many viewers parse exactly that. Atelier adds its complete
request (chaos, weights, ``--stop``, lineage) as JSON in an ``atelier`` chunk, so an image
can be reproduced bit for bit even where the A1111 line has no field for a setting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

PARAMETERS_KEY = "parameters"
ATELIER_KEY = "atelier"

_NEGATIVE_PREFIX = "Negative prompt: "
# "Key: value" pairs of the last line; values may be quoted when they contain commas.
_FIELD = re.compile(r'\s*([\w ][\w \-/]*):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


@dataclass(frozen=True)
class GenerationInfo:
    """What made one image: enough to reproduce it with the same model."""

    prompt: str
    negative_prompt: str
    steps: int
    sampler: str  # display name, e.g. "DPM++ 2M Karras"
    cfg_scale: float
    seed: int
    width: int
    height: int
    model: str
    extra: dict[str, str] = field(default_factory=dict)  # e.g. {"Denoising strength": "0.35"}

    def to_parameters(self) -> str:
        """The A1111 ``parameters`` text."""
        fields = {
            "Steps": str(self.steps),
            "Sampler": self.sampler,
            "CFG scale": f"{self.cfg_scale:g}",
            "Seed": str(self.seed),
            "Size": f"{self.width}x{self.height}",
            "Model": self.model,
            **self.extra,
        }
        lines = [_single_line(self.prompt)]
        if self.negative_prompt:
            lines.append(_NEGATIVE_PREFIX + _single_line(self.negative_prompt))
        lines.append(", ".join(f"{key}: {_quote(value)}" for key, value in fields.items()))
        return "\n".join(lines)


def save_png(
    image: Image.Image,
    path: Path,
    info: GenerationInfo,
    atelier: dict[str, Any] | None = None,
) -> None:
    """Write ``image`` as PNG with its generation data embedded."""
    chunks = PngImagePlugin.PngInfo()
    chunks.add_text(PARAMETERS_KEY, info.to_parameters())
    if atelier is not None:
        chunks.add_itxt(ATELIER_KEY, json.dumps(atelier, sort_keys=True, separators=(",", ":")))
    image.save(path, format="PNG", pnginfo=chunks)


def read_parameters(path: Path) -> str | None:
    """The raw ``parameters`` text of a PNG, or None if it has none."""
    return _text_chunks(path).get(PARAMETERS_KEY)


def read_atelier(path: Path) -> dict[str, Any] | None:
    """The JSON request Atelier stored in a PNG, or None."""
    raw = _text_chunks(path).get(ATELIER_KEY)
    return None if raw is None else dict(json.loads(raw))


def _text_chunks(path: Path) -> dict[str, str]:
    with Image.open(path) as image:
        return dict(getattr(image, "text", {}))


def parse_parameters(text: str) -> GenerationInfo:
    """Parse A1111 ``parameters`` text back into a :class:`GenerationInfo`.

    Raises ValueError when the text lacks the fields every generator writes.
    """
    lines = text.split("\n")
    fields = dict(_FIELD.findall(lines[-1])) if len(lines) > 1 else {}
    fields = {key.strip(): _unquote(value.strip()) for key, value in fields.items()}
    body = lines[:-1]
    negative_lines = [line for line in body if line.startswith(_NEGATIVE_PREFIX)]
    prompt_lines = [line for line in body if not line.startswith(_NEGATIVE_PREFIX)]
    known = ("Steps", "Sampler", "CFG scale", "Seed", "Size", "Model")
    missing = [key for key in known if key not in fields]
    if missing:
        raise ValueError(f"generation data lacks {', '.join(missing)}")
    width, _, height = fields["Size"].partition("x")
    return GenerationInfo(
        prompt="\n".join(prompt_lines),
        negative_prompt=negative_lines[0][len(_NEGATIVE_PREFIX) :] if negative_lines else "",
        steps=int(fields["Steps"]),
        sampler=fields["Sampler"],
        cfg_scale=float(fields["CFG scale"]),
        seed=int(fields["Seed"]),
        width=int(width),
        height=int(height),
        model=fields["Model"],
        extra={key: value for key, value in fields.items() if key not in known},
    )


def _single_line(text: str) -> str:
    """Prompts are one line in this format; a newline would start the next field."""
    return " ".join(text.split())


def _quote(value: str) -> str:
    if any(char in value for char in ',:"\n'):
        return json.dumps(value)
    return value


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return str(json.loads(value))
    return value
