"""The ATELIER_IMAGE_* settings: which hosts image URLs may name, and the caps on images."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from intake.limits import DISCORD_HOSTS, IntakeLimits


def test_by_default_only_discords_hosts_and_the_documented_caps(clean_env: Path) -> None:
    assert load_settings().intake_limits() == IntakeLimits(
        hosts=frozenset({"cdn.discordapp.com", "media.discordapp.net"}),
        max_bytes=10_000_000,
        max_pixels=40_000_000,
        fetch_seconds=15,
        allow_loopback=False,
    )


def test_the_operator_adds_hosts_and_sets_the_caps(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_IMAGE_HOSTS", " I.Imgur.com, images.example.org. ,")
    monkeypatch.setenv("ATELIER_IMAGE_MAX_MB", "2.5")
    monkeypatch.setenv("ATELIER_IMAGE_MAX_MEGAPIXELS", "12")
    monkeypatch.setenv("ATELIER_IMAGE_FETCH_SECONDS", "5")
    limits = load_settings().intake_limits()
    assert limits.hosts == DISCORD_HOSTS | {"i.imgur.com", "images.example.org"}
    assert (limits.max_bytes, limits.max_pixels, limits.fetch_seconds) == (2_500_000, 12_000_000, 5)
    assert not limits.allow_loopback


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        (
            "ATELIER_IMAGE_HOSTS",
            "i.imgur.com,https://evil.example/x",
            "ATELIER_IMAGE_HOSTS='i.imgur.com,https://evil.example/x': https://evil.example/x "
            "is not a host name; give names only, separated by commas, e.g. "
            "i.imgur.com,images.example.org",
        ),
        (
            "ATELIER_IMAGE_MAX_MEGAPIXELS",
            "100",
            "ATELIER_IMAGE_MAX_MEGAPIXELS='100': Input should be less than or equal to 80",
        ),
        (
            "ATELIER_IMAGE_MAX_MB",
            "0",
            "ATELIER_IMAGE_MAX_MB='0': Input should be greater than 0",
        ),
    ],
)
def test_bad_image_settings_are_one_line_each(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.problems == [problem]
