"""The base of every error whose text a member may read.

Domain packages (``inference``, ``studio``, ``registry``, ``contests``, ``funding``) raise
subclasses with messages in plain words; the Discord cogs and the CLI show them through
one handler each. Errors that are bugs do not derive from this class, so a front end can
tell "tell the member" from "apologise and log".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum

#: How many characters of a member's input a refusal quotes back (the rest is elided).
QUOTE_CHARS = 60

#: How a moment reads where no front end formats it (logs, the CLI, ``str(error)``).
PLAIN_TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def plain_time(moment: datetime) -> str:
    """``2026-12-02 11:30 UTC``: a moment for readers without Discord's timestamp markup."""
    return moment.astimezone(UTC).strftime(PLAIN_TIME_FORMAT)


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """``“text”`` for a refusal that quotes what a member typed, shortened to ``limit``
    characters with ``…`` in the middle: enough of both ends to recognise it, however long
    the input was (a 6,000-character goal would otherwise push the reason out of a reply)."""
    text = text.strip()
    if len(text) > limit:
        head = (limit - 1) * 2 // 3
        text = f"{text[:head]}…{text[len(text) - (limit - 1 - head) :]}"
    return f"“{text}”"


def fill_moments(
    message: str, moments: Mapping[str, datetime], show: Callable[[datetime], str]
) -> str:
    """``message`` with each ``{name}`` of ``moments`` replaced by ``show(moment)``.

    Only the named fields are replaced, so other braces in a message (a member's
    ``{red, green}`` prompt, say) stay as they are.
    """
    for name, moment in moments.items():
        message = message.replace("{" + name + "}", show(moment))
    return message


class UserFacingError(Exception):
    """A request that cannot be carried out; the text says what was wrong and what would
    be accepted, in words fit to show the member who asked.

    Moments stay values (``{name}`` fields filled from ``moments``) so that each front end
    shows them its own way: Discord as timestamp markup, in each member's local time; the
    CLI and logs as UTC text (``str(error)``). ``hint``, a member of a domain's hint enum,
    says where the member can look next (the list of contests, say); the front end words it
    with the command that shows it, which the domain does not know.
    """

    def __init__(self, message: str, *, hint: Enum | None = None, **moments: datetime) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.moments = moments

    def render(self, show_moment: Callable[[datetime], str] = plain_time) -> str:
        """The member's text, with each moment shown by ``show_moment``."""
        return fill_moments(self.message, self.moments, show_moment)

    def __str__(self) -> str:
        return self.render()
