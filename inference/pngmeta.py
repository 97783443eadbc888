"""Generation data inside PNG files, in the format other tools and model sites read.

AUTOMATIC1111's WebUI stores it in a ``parameters`` text chunk::

    a lighthouse at dusk
    Negative prompt: fog, people
    Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 42, Size: 704x384,
    Model hash: 6ce0161689, Model: sd15, Lora hashes: "pixelart: 0a1b2c3d4e"

(one line). Civitai, ComfyUI loaders and many viewers parse exactly that; model sites link
the checkpoint and LoRAs by the short hashes, and the prompt keeps its ``<lora:…>`` tags.
Atelier adds its complete request (chaos, weights, ``--stop``; no paths, the PNG is
public) as JSON in an ``atelier`` chunk, so an image can be reproduced bit for bit even
where the A1111 line has no field for a setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

PARAMETERS_KEY = "parameters"
ATELIER_KEY = "atelier"

NEGATIVE_PREFIX = "Negative prompt: "


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
    model_hash: str | None = None  # short form: the first ten hex digits of the SHA-256
    #: A1111's ``Hashes`` JSON (``{"model": …, "lora:NAME": …}``), which newer readers and
    #: model sites prefer to ``Model hash`` and ``Lora hashes``.
    hashes: dict[str, str] = field(default_factory=dict)

    def to_parameters(self) -> str:
        """The A1111 ``parameters`` text."""
        fields = {
            "Steps": str(self.steps),
            "Sampler": self.sampler,
            "CFG scale": f"{self.cfg_scale:g}",
            "Seed": str(self.seed),
            "Size": f"{self.width}x{self.height}",
            **({"Model hash": self.model_hash} if self.model_hash else {}),
            "Model": self.model,
            **self.extra,
        }
        lines = [_single_line(self.prompt)]
        if self.negative_prompt:
            lines.append(NEGATIVE_PREFIX + _single_line(self.negative_prompt))
        items = [f"{key}: {_quote(value)}" for key, value in fields.items()]
        if self.hashes:  # a JSON object, written as is (A1111 does not quote it)
            items.append("Hashes: " + json.dumps(self.hashes, separators=(", ", ": ")))
        lines.append(", ".join(items))
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


def _single_line(text: str) -> str:
    """Prompts are one line in this format; a newline would start the next field."""
    return " ".join(text.split())


def _quote(value: str) -> str:
    if any(char in value for char in ',:"\n'):
        return json.dumps(value)
    return value
