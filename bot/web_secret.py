"""The key that signs Vary (Region)'s editor links: ``ATELIER_WEB_SECRET``, or one
generated once and kept in the data folder, readable by this user only."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from bot.data_folder import DATA_FOLDER_FIX, SetupError
from bot.settings import Settings
from studio.editor_links import MIN_SECRET_BYTES

#: The generated secret's file in the data folder.
SECRET_FILE = "web-secret"


def web_secret(settings: Settings) -> bytes:
    """The configured secret, else the data folder's (made on first use)."""
    if settings.web_secret is not None:
        return settings.web_secret.get_secret_value().encode()
    return stored_secret(settings.data_dir / SECRET_FILE)


def stored_secret(path: Path) -> bytes:
    """The secret kept at ``path``; created (mode 0600, never replaced) if there is none.
    It is written in full before it appears under its name, so a second process starting
    at the same moment reads the same one. A file too short to be one is refused
    (SetupError) rather than trusted or overwritten."""
    if not path.exists():
        try:
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{SECRET_FILE}-")  # 0600
        except OSError as error:
            raise SetupError(
                f"cannot create {path} ({error.strerror or error}); {DATA_FOLDER_FIX}"
            ) from None
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(temp, path)
        finally:
            os.unlink(temp)
    try:
        secret = path.read_text().strip().encode()
    except OSError as error:
        raise SetupError(f"cannot read {path} ({error.strerror or error})") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise SetupError(
            f"{path} holds no usable secret; delete it (a new one is made at the next start; "
            "editor links already sent stop working) or set ATELIER_WEB_SECRET"
        )
    return secret
