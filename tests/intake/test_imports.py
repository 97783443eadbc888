"""Intake is a domain package: it imports only ``core``, httpx/httpcore, Pillow and the
standard library, so neither Discord nor the engine comes in through it."""

from __future__ import annotations

from tests.helpers.imports import loaded_after_import, outside_imports, package_modules

ALLOWED = {"intake", "core", "httpx", "httpcore", "PIL"}


def test_intake_modules_import_only_core_http_pillow_and_the_standard_library() -> None:
    modules = package_modules("intake")
    assert modules
    for path in modules:
        outside = outside_imports(path, ALLOWED)
        assert not outside, f"intake/{path.name} imports {sorted(outside)}"


def test_importing_intake_loads_neither_discord_nor_the_engine() -> None:
    forbidden = ("discord", "torch", "inference", "studio", "cogs", "db", "aiohttp")
    assert loaded_after_import("intake", forbidden) == "[]"
