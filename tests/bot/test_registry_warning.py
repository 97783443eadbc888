"""The operator is warned when moderators of several servers share the model registry."""

from __future__ import annotations

from bot.app import open_registry_warning


def test_several_servers_without_a_home_server_are_warned_about() -> None:
    warning = open_registry_warning(frozenset(), 3)
    assert warning is not None
    assert "3 servers" in warning
    assert "ATELIER_HOME_GUILD_IDS" in warning


def test_one_server_or_a_home_server_needs_no_warning() -> None:
    assert open_registry_warning(frozenset(), 1) is None
    assert open_registry_warning(frozenset({42}), 5) is None
