"""The web studio reads through the domain packages and never loads Discord or torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_web_package_loads_neither_discord_nor_torch() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, web.app, web.server, bot.web_alone;"
            " print(sorted(m for m in ('discord', 'torch', 'diffusers') if m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
