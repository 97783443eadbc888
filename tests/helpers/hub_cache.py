"""A Hugging Face hub cache written on disk as ``huggingface_hub`` writes it, so hub files
are read offline (``HF_HUB_OFFLINE=1``) through the real download code: per repository
``models--org--repo/`` with ``blobs/<hash>`` holding the bytes, ``snapshots/<revision>/<file>``
linking to them and ``refs/main`` naming the revision."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: The commit every fake repository's ``main`` points at.
REVISION = "0123456789abcdef0123456789abcdef01234567"


class FakeHubCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, repo_id: str, filename: str, content: Path | bytes) -> Path:
        """Put ``content`` (a file's bytes, or a file to copy) in the cache as ``filename`` of
        ``repo_id``'s main revision; the snapshot path the hub client will answer."""
        data = content.read_bytes() if isinstance(content, Path) else content
        folder = self.root / f"models--{repo_id.replace('/', '--')}"
        blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        (folder / "refs").mkdir(exist_ok=True)
        (folder / "refs" / "main").write_text(REVISION)
        link = folder / "snapshots" / REVISION / filename
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, link.parent))
        return link
