"""Paths read from the database, trusted no further than the folder they must be in."""

from __future__ import annotations

from pathlib import Path


def file_inside(root: Path, stored: str) -> Path | None:
    """The stored file, if it is a file inside ``root`` (the data folder's images or
    inputs): a path in the database is trusted no further than that."""
    folder = root.resolve()
    path = Path(stored).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path
