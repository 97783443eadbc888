"""Logging never prints a secret, whichever way it reached the log line."""

from __future__ import annotations

import logging
import sys

import pytest

from bot.logs import REDACTED, RedactingFormatter, setup_logging
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, button, is_result

SECRET = "MTIz.fake-token-value-xyz"
log = logging.getLogger("atelier.test")


def test_secret_in_message_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=[SECRET])
    log.info(f"connecting with {SECRET} now")
    err = capsys.readouterr().err
    assert "connecting with [redacted] now" in err
    assert SECRET not in err


def test_secret_in_arguments_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=[SECRET])
    log.warning("headers: %r", {"Authorization": f"Bot {SECRET}"})
    err = capsys.readouterr().err
    assert "'Bot [redacted]'" in err
    assert SECRET not in err


def test_secret_in_traceback_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=[SECRET])

    def login(token: str) -> None:
        raise PermissionError(f"401 Unauthorized for token {token}")

    try:
        login(SECRET)
    except PermissionError:
        log.exception("login failed")
    err = capsys.readouterr().err
    assert "login failed" in err
    assert "Traceback (most recent call last)" in err
    assert "PermissionError: 401 Unauthorized for token [redacted]" in err
    assert SECRET not in err


def test_secret_in_stack_info_and_logger_name_is_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("DEBUG", secrets=[SECRET])
    logging.getLogger(f"client.{SECRET}").debug("hello", stack_info=True)
    err = capsys.readouterr().err
    assert "client.[redacted]: hello" in err
    assert SECRET not in err


def test_every_secret_is_redacted_and_empty_ones_are_ignored(
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = "s3cr3t-webhook"
    setup_logging("INFO", secrets=["", SECRET, other])
    log.info("token=%s webhook=%s twice=%s", SECRET, other, SECRET)
    err = capsys.readouterr().err
    assert "token=[redacted] webhook=[redacted] twice=[redacted]" in err
    assert SECRET not in err
    assert other not in err
    # An empty secret (no token configured) must not mangle every line.
    assert err.count(REDACTED) == 3


def test_no_secrets_leaves_lines_alone(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    log.info("plain %s", "text")
    err = capsys.readouterr().err
    assert err.endswith("INFO    atelier.test: plain text\n")
    assert REDACTED not in err


def test_level_is_applied(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("WARNING", secrets=[SECRET])
    log.info("quiet detail")
    log.warning("loud problem")
    err = capsys.readouterr().err
    assert "quiet detail" not in err
    assert "WARNING atelier.test: loud problem" in err


def test_setting_up_twice_does_not_print_lines_twice(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", secrets=[SECRET])
    setup_logging("INFO", secrets=[SECRET])
    log.info("once")
    assert capsys.readouterr().err.count("once") == 1
    assert len(logging.getLogger().handlers) == 1


def test_formatter_redacts_the_finished_text() -> None:
    formatter = RedactingFormatter("%(levelname)s %(message)s", [SECRET])
    try:
        raise ValueError(SECRET)
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "bad %s", (SECRET,), exc_info=sys.exc_info()
        )
    text = formatter.format(record)
    assert text.startswith("ERROR bad [redacted]\nTraceback")
    assert text.endswith("ValueError: [redacted]")
    assert SECRET not in text


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (
            "POST https://discord.com/api/v10/interactions/123/aW50Zm9v-_x/callback returned 204",
            "/interactions/123/[redacted]/callback returned 204",
        ),
        (
            "PATCH https://discord.com/api/v10/webhooks/9/aW50Zm9v/messages/@original?wait=1",
            "/webhooks/9/[redacted]/messages/@original?wait=1",
        ),
        ("{'id': '5', 'token': 'aW50Zm9v', 'version': 1}", "{'id': '5', 'token': '[redacted]',"),
        ('{"token": "aW50Zm9v"}', '{"token": "[redacted]"}'),
    ],
)
def test_interaction_tokens_are_redacted_by_where_they_appear(line: str, shown: str) -> None:
    formatter = RedactingFormatter("%(message)s", [])
    record = logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, line, (), None)
    text = formatter.format(record)
    assert shown in text
    assert "aW50Zm9v" not in text


async def test_interaction_tokens_never_reach_the_log_even_at_debug(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, capsys: pytest.CaptureFixture[str]
) -> None:
    """discord.py's own DEBUG lines show request URLs (``/interactions/<id>/<token>/…``,
    ``/webhooks/<app>/<token>/…``) and gateway payloads (``'token': …``); an interaction
    token is a short-lived secret, so each is redacted like the bot's token."""
    setup_logging("DEBUG", secrets=[fake.bot_token])
    await bots.start()
    rec = await fake.slash("imagine", {"prompt": "a lantern"}, user=alice)
    grid = await rec.wait_original(is_result, timeout=30)
    press = await fake.press(grid.id, button(grid, "u", 0), user=alice)
    await press.wait_original(lambda m: bool(m.attachments), timeout=30)
    err = capsys.readouterr().err
    assert "/interactions/" in err  # the lines are there, with their tokens blanked out
    assert "/webhooks/" in err
    for token in (rec.token, press.token):
        assert token not in err
    assert fake.bot_token not in err
