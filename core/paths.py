"""Paths read from the database, trusted no further than the folder they must be in."""

from __future__ import annotations

import tempfile
from pathlib import Path


def file_inside(root: Path, stored: str) -> Path | None:
    """The stored file, if it is a file inside ``root`` (the data folder's images or
    inputs): a path in the database is trusted no further than that."""
    folder = root.resolve()
    path = Path(stored).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


def write_at_once(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: through a temporary file of its own
    in the same folder (two writers of one path never write into each other's), renamed
    into place. Creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as partial:
        partial.write(data)
    Path(partial.name).replace(path)
