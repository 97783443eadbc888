"""Each feature's cogs (``cogs/<feature>/``, or a single ``cogs/<feature>.py`` holding a
cog) stand on their own: none imports another feature. What several features share lives
in the other modules directly under ``cogs/`` (e.g. ``cogs/uploads.py``,
``cogs/upscale_buttons.py``), which any of them may import and which import no feature."""

from __future__ import annotations

import ast
from pathlib import Path

COGS = Path(__file__).resolve().parents[2] / "cogs"


def _features() -> list[str]:
    packages = [p.name for p in COGS.iterdir() if p.is_dir() and any(p.rglob("*.py"))]
    modules = [p.stem for p in COGS.glob("*.py") if _defines_a_cog(p)]
    return sorted(packages + modules)


def _defines_a_cog(path: Path) -> bool:
    """Whether the module holds a ``commands.Cog``: then it is a feature of its own."""
    return any(
        isinstance(node, ast.ClassDef)
        and any(ast.unparse(base).endswith("Cog") for base in node.bases)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
    )


def _feature_modules(feature: str) -> list[Path]:
    package = COGS / feature
    return sorted(package.rglob("*.py")) if package.is_dir() else [COGS / f"{feature}.py"]


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
    assert {"imagine", "contests", "funding", "admin", "preferences"} <= set(_features())
    assert "uploads" not in _features()  # shared, not a feature


def test_no_feature_cog_imports_another_feature() -> None:
    features = set(_features())
    crossings = []
    for feature in sorted(features):
        for path in _feature_modules(feature):
            for module in _imported_modules(path):
                other = _feature_of(module)
                if other in features and other != feature:
                    crossings.append(f"{path.relative_to(COGS.parent)} imports {module}")
    assert crossings == []


def test_shared_cog_modules_import_no_feature() -> None:
    features = set(_features())
    crossings = [
        f"{path.relative_to(COGS.parent)} imports {module}"
        for path in sorted(COGS.glob("*.py"))
        if path.stem not in features
        for module in _imported_modules(path)
        if _feature_of(module) in features
    ]
    assert crossings == []
