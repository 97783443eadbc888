"""Reading generation data back out of a PNG, the way other tools (Civitai, ComfyUI, image
viewers) read what :mod:`inference.pngmeta` writes: the tests' check that it round-trips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PIL import Image

from inference.pngmeta import ATELIER_KEY, NEGATIVE_PREFIX, PARAMETERS_KEY, GenerationInfo

# "Key: value" pairs of the last line; values may be quoted when they contain commas.
_FIELD = re.compile(r'\s*([\w ][\w \-/]*):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


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
    negative_lines = [line for line in body if line.startswith(NEGATIVE_PREFIX)]
    prompt_lines = [line for line in body if not line.startswith(NEGATIVE_PREFIX)]
    known = ("Steps", "Sampler", "CFG scale", "Seed", "Size", "Model")
    missing = [key for key in known if key not in fields]
    if missing:
        raise ValueError(f"generation data lacks {', '.join(missing)}")
    width, _, height = fields["Size"].partition("x")
    return GenerationInfo(
        prompt="\n".join(prompt_lines),
        negative_prompt=negative_lines[0][len(NEGATIVE_PREFIX) :] if negative_lines else "",
        steps=int(fields["Steps"]),
        sampler=fields["Sampler"],
        cfg_scale=float(fields["CFG scale"]),
        seed=int(fields["Seed"]),
        width=int(width),
        height=int(height),
        model=fields["Model"],
        extra={key: value for key, value in fields.items() if key not in known},
    )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return str(json.loads(value))
    return value
