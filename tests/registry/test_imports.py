"""The registry is a domain package of its own: it imports only ``db``, ``core`` and the
standard library, so funding (which imports the registry), the engine, the studio,
Discord and torch can never be pulled in through it."""

from __future__ import annotations

from tests.helpers.imports import loaded_after_import, outside_imports, package_modules

ALLOWED = {"registry", "db", "core"}


def test_registry_modules_import_only_db_core_and_the_standard_library() -> None:
    modules = package_modules("registry")
    assert modules
    for path in modules:
        outside = outside_imports(path, ALLOWED)
        assert not outside, f"registry/{path.name} imports {sorted(outside)}"


def test_importing_the_registry_loads_neither_funding_nor_the_engine_nor_discord() -> None:
    forbidden = ("funding", "inference", "studio", "contests", "cogs", "discord", "torch")
    assert loaded_after_import("registry", forbidden) == "[]"
