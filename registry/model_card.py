"""What a model's card says about it: the license and version in a local model folder's
``README.md`` front matter (the Hugging Face model card format)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(\n|\Z)", re.DOTALL)
_KEY = re.compile(r"^(license|version|model_version)\s*:\s*(.+?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class ModelCard:
    license: str | None = None
    version: str | None = None


def read_model_card(source: str) -> ModelCard:
    """The card next to a local model (a folder's README.md, or ``NAME.md`` beside a single
    file); an empty card for hub ids and models without one."""
    path = Path(source).expanduser()
    card = path / "README.md" if path.is_dir() else path.with_suffix(".md")
    try:
        text = card.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ModelCard()
    front = _FRONT_MATTER.match(text)
    if front is None:
        return ModelCard()
    found = {key: value.strip("'\"") for key, value in _KEY.findall(front.group(1))}
    return ModelCard(
        license=found.get("license"), version=found.get("version") or found.get("model_version")
    )
