"""What the web pages are given: the resources ``bot/`` built, passed in like everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from core.clock import Clock
from db.database import Database
from studio.region_editing import RegionEditor


@dataclass(frozen=True)
class WebContext:
    db: Database
    #: The data folder's images: the only place images are served from.
    images_dir: Path
    clock: Clock
    #: ``ATELIER_PUBLIC_URL``: the address members reach (absolute links, Open Graph cards);
    #: None: the address each request came to.
    public_url: str | None = None
    #: Vary (Region)'s editor pages; None: not served (the web studio alone, without the
    #: bot's worker pool).
    region_editor: RegionEditor | None = None

    @property
    def inputs_dir(self) -> Path:
        """The data folder's inputs (image prompts, masks), beside its images, where the
        studio keeps them."""
        return self.images_dir.parent / "inputs"


#: Where each request's handler finds the context.
CONTEXT = web.AppKey("context", WebContext)
