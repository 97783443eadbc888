"""The web package never imports Discord or torch (DESIGN.md): checked in a fresh
interpreter, where nothing else has imported them first."""

from __future__ import annotations

import subprocess
import sys


def test_web_imports_neither_discord_nor_torch() -> None:
    code = (
        "import sys, pkgutil, importlib, web\n"
        "for m in pkgutil.walk_packages(web.__path__, 'web.'): importlib.import_module(m.name)\n"
        "print(sorted(n for n in ('discord', 'torch') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
