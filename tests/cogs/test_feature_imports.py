"""Each feature's cogs (``cogs/<feature>/``) stand on their own: none imports another
feature's package. What several features share lives in modules directly under ``cogs/``
(e.g. ``cogs/uploads.py``, ``cogs/upscale_buttons.py``), which any of them may import."""

from __future__ import annotations

import ast
from pathlib import Path

COGS = Path(__file__).resolve().parents[2] / "cogs"


def _features() -> list[str]:
    return sorted(p.name for p in COGS.iterdir() if p.is_dir() and any(p.rglob("*.py")))


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, relative imports resolved, ``from cogs import x``
    counted as ``cogs.x``."""
    package = list(path.relative_to(COGS.parent).with_suffix("").parts[:-1])
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            modules.append(module)
            modules.extend(f"{module}.{alias.name}" for alias in node.names)
    return modules


def _feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "cogs" else None


def test_there_are_features_to_check() -> None:
    assert {"imagine", "contests", "funding"} <= set(_features())


def test_no_feature_cog_imports_another_feature() -> None:
    features = set(_features())
    crossings = []
    for feature in sorted(features):
        for path in sorted((COGS / feature).rglob("*.py")):
            for module in _imported_modules(path):
                other = _feature_of(module)
                if other in features and other != feature:
                    crossings.append(f"{path.relative_to(COGS.parent)} imports {module}")
    assert crossings == []
