"""Intake is a domain package: it imports only ``core``, httpx/httpcore, Pillow and the
standard library, so neither Discord nor the engine comes in through it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
MODULES = sorted((ROOT / "intake").glob("*.py"))
ALLOWED = {"intake", "core", "httpx", "httpcore", "PIL"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def test_intake_modules_import_only_core_http_pillow_and_the_standard_library() -> None:
    assert MODULES
    for path in MODULES:
        outside = _imports(path) - ALLOWED - sys.stdlib_module_names
        assert not outside, f"intake/{path.name} imports {sorted(outside)}"


def test_importing_intake_loads_neither_discord_nor_the_engine() -> None:
    names = ", ".join(f"intake.{path.stem}" for path in MODULES if path.stem != "__init__")
    forbidden = ("discord", "torch", "inference", "studio", "cogs", "db", "aiohttp")
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {names}; "
            f"print(sorted({{m.partition('.')[0] for m in sys.modules}} & {set(forbidden)!r}))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert shown.stdout.strip() == "[]"
