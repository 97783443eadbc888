"""The web tests' site: the studio on 127.0.0.1, over the test's own database and images."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.database import Database
from tests.helpers.clock import FakeClock
from tests.helpers.web import Site, running_site


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    return tmp_path / "images"


@pytest.fixture
async def site(db: Database, images_dir: Path, clock: FakeClock) -> AsyncIterator[Site]:
    async with running_site(db, images_dir, clock) as running:
        yield running
