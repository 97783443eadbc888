"""The key of Vary (Region)'s editor links: ATELIER_WEB_SECRET, or one generated once in
the data folder (0600), never shown in a settings error."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.data_folder import SetupError
from bot.settings import SettingsError, load_settings
from bot.web_secret import SECRET_FILE, web_secret

CONFIGURED = "configured-secret-" + "x" * 20


def test_generated_once_and_kept_private(clean_env: Path) -> None:
    settings = load_settings(data_dir=clean_env)
    first = web_secret(settings)
    path = clean_env / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert web_secret(settings) == first  # a restart keeps the links it made working
    assert [p.name for p in clean_env.iterdir()] == [SECRET_FILE]  # no temporary file left
    other = clean_env / "other"
    other.mkdir()
    assert web_secret(load_settings(data_dir=other)) != first  # random, not derived


def test_the_setting_wins_and_no_file_is_made(clean_env: Path) -> None:
    settings = load_settings(data_dir=clean_env, web_secret=CONFIGURED)
    assert web_secret(settings) == CONFIGURED.encode()
    assert not (clean_env / SECRET_FILE).exists()


def test_an_unusable_file_is_refused_not_replaced(clean_env: Path) -> None:
    path = clean_env / SECRET_FILE
    path.write_text("short\n")
    with pytest.raises(SetupError, match="holds no usable secret"):
        web_secret(load_settings(data_dir=clean_env))
    assert path.read_text() == "short\n"


def test_a_short_setting_is_refused_without_showing_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_WEB_SECRET", "hunter2-short")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.problems == [
        "ATELIER_WEB_SECRET: must be at least 16 characters (e.g. the output of "
        "`openssl rand -hex 32`), or unset to let Atelier generate one"
    ]
    assert "hunter2" not in str(raised.value)


def test_links_live_thirty_minutes_unless_set(clean_env: Path) -> None:
    assert load_settings().editor_link_minutes == 30
    assert load_settings(editor_link_minutes=5).editor_link_minutes == 5
