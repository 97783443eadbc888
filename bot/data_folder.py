"""The data folder (``ATELIER_DATA_DIR``): can it be written, and is it on the volume?

Every command that writes there checks it first, so a folder that cannot be created or
written is one line naming it instead of a traceback from SQLite or ``mkdir``.
"""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

DATA_FOLDER_FIX = "set ATELIER_DATA_DIR to a folder this user can write"

#: The errors whose text tells the operator why a folder cannot be written.
_TELLING = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class SetupError(Exception):
    """An operator's set-up mistake, told in one line (exit code 2)."""


def nearest_existing(path: Path) -> Path:
    """``path`` or its closest ancestor that exists."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def writable_problem(folder: Path, *, create: bool) -> str | None:
    """Why files cannot be written in ``folder``, or None. With ``create`` the folder is
    created if missing; without, a missing folder is judged by the ancestor it would be
    created in. Either way a probe file is written there and removed at once (permissions
    alone do not tell: root passes them on a read-only mount or in /proc)."""
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return f"cannot create {folder} ({error.strerror or error})"
    existing = nearest_existing(folder)
    if not existing.is_dir():
        return f"cannot create {folder}: {existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        # Only these reasons say something about the folder ("No such file or directory"
        # from /proc would not).
        reason = f" ({error.strerror})" if error.errno in _TELLING else ""
        return f"the folder {existing} cannot be written to{reason}"
    return None


def prepare(folder: Path) -> None:
    """Create ``folder`` if needed; raises :class:`SetupError` if it cannot be written."""
    problem = writable_problem(folder, create=True)
    if problem is not None:
        raise SetupError(f"data folder: {problem}; {DATA_FOLDER_FIX}")


def output_problem(out: Path) -> str | None:
    """Why ``atelier imagine --out`` cannot be ``out`` (checked before anything runs)."""
    if out.suffix.lower() != ".png":
        return f"--out {out}: must be a .png file name, e.g. grid.png"
    problem = writable_problem(out.parent, create=False)
    if problem is not None:
        return f"--out {out}: {problem}; choose a folder you can write to"
    return None


def outside_volume_problem(folder: Path, volume: Path | None) -> str | None:
    """Why ``folder`` is not on ``volume`` (``ATELIER_DATA_VOLUME``, which the container
    image sets to its ``/data`` volume), or None: a data folder elsewhere in a container is
    lost with it, usually because ``.env`` sets ``ATELIER_DATA_DIR=./data`` over ``/data``."""
    if volume is None:
        return None
    folder, volume = folder.resolve(), volume.resolve()  # "/data/../app" is not on /data
    if folder == volume or volume in folder.parents:
        return None
    return (
        f"{folder} is outside the volume {volume} (ATELIER_DATA_VOLUME), so it would be lost "
        "with the container; remove ATELIER_DATA_DIR from .env (the image sets it to /data)"
    )
