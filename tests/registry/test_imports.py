"""The registry is a domain package of its own: it imports only ``db``, ``core`` and the
standard library, so funding (which imports the registry), the engine, the studio,
Discord and torch can never be pulled in through it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
MODULES = sorted((ROOT / "registry").glob("*.py"))
ALLOWED = {"registry", "db", "core"}


def _imports(path: Path) -> set[str]:
    """The top-level packages ``path`` imports (relative imports stay in the package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


def test_registry_modules_import_only_db_core_and_the_standard_library() -> None:
    assert MODULES
    for path in MODULES:
        outside = _imports(path) - ALLOWED - sys.stdlib_module_names
        assert not outside, f"registry/{path.name} imports {sorted(outside)}"


def test_importing_the_registry_loads_neither_funding_nor_the_engine_nor_discord() -> None:
    names = ", ".join(f"registry.{path.stem}" for path in MODULES if path.stem != "__init__")
    forbidden = ("funding", "inference", "studio", "contests", "cogs", "discord", "torch")
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
