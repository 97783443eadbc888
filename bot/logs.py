"""Logging set-up that can never print a secret."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"

#: Where short-lived secrets show in discord.py's DEBUG lines, the secret being group
#: ``secret``: interaction tokens in request URLs (``/interactions/<id>/<token>/callback``,
#: ``/webhooks/<application>/<token>/…``) and in gateway payloads (``'token': '…'``, as the
#: INTERACTION_CREATE dump writes it). The bot's token is not among them: it is known, and
#: redacted as it is.
_SECRET_SHAPES = (
    re.compile(r"/(?:interactions|webhooks)/[0-9]+/(?P<secret>[^/?\s'\"]+)"),
    re.compile(r"""["']token["']:\s*["'](?P<secret>[^"']+)["']"""),
)


class RedactingFormatter(logging.Formatter):
    """Formats records, then blanks out every secret in the finished text: the ones given
    (the bot's token), and those known only by where they appear (interaction tokens).

    Redacting the final text (message, arguments and traceback together) catches a secret
    however it got there: an f-string, an exception message, a library's debug line.
    """

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for shape in _SECRET_SHAPES:
            text = shape.sub(_blank_secret, text)
        return text


def _blank_secret(match: re.Match[str]) -> str:
    start, end = match.span("secret")
    whole = match.group(0)
    return whole[: start - match.start()] + REDACTED + whole[end - match.start() :]


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
