"""What a package's modules import, read two ways: the import statements in their source,
and the packages a fresh interpreter has loaded after importing them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def package_modules(package: str) -> list[Path]:
    """The package's module files."""
    return sorted((ROOT / package).glob("*.py"))


def outside_imports(path: Path, allowed: set[str]) -> set[str]:
    """The top-level packages ``path`` imports beyond ``allowed`` and the standard library
    (relative imports stay in the package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found - allowed - sys.stdlib_module_names


def loaded_after_import(package: str, watched: tuple[str, ...]) -> str:
    """Which of ``watched`` a fresh interpreter has loaded after importing every module of
    ``package``, printed as a sorted list ("[]" when none)."""
    names = ", ".join(
        f"{package}.{path.stem}" for path in package_modules(package) if path.stem != "__init__"
    )
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {names}; "
            f"print(sorted({{m.partition('.')[0] for m in sys.modules}} & {set(watched)!r}))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return shown.stdout.strip()
