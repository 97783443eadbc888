"""The inputs a job reads from the data folder (image prompts, region masks), stored as PNGs
named by their content's SHA-256: the same image twice is one file."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image

from core.paths import write_at_once


def store_png(image: Image.Image, folder: Path, kind: str) -> tuple[str, str]:
    """Write ``image`` as ``<kind>-<SHA-256>.png`` under ``folder`` (unless it is there) and
    return (path, SHA-256). Blocking: run it off the event loop."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = folder / f"{kind}-{digest}.png"
    if not path.is_file():
        write_at_once(path, data)
    return str(path), digest
