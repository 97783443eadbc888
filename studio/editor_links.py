"""Signed links to the region editor, and the token that guards its form.

A link names an upscaled job, the member it was made for and when it expires; an
HMAC-SHA-256 of the three under the server's secret makes it unforgeable. Whoever holds a
link acts as its member (the web studio has no login of its own), so a link is shown only
to that member, ephemerally, and lives briefly. The form's token is derived from the link
the same way, so a page opened from one link can only submit for that link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from core.clock import Clock
from core.errors import UserFacingError

#: Shorter secrets make a forgery guessable; ``ATELIER_WEB_SECRET`` must be at least this long.
MIN_SECRET_BYTES = 16

# ASCII digits only: str.isdigit() also accepts '²' and the like, which int() refuses.
# Discord ids fit in 20 digits; 11 digits of seconds reach far past any real expiry.
_ID = re.compile(r"[0-9]{1,20}")
_SECONDS = re.compile(r"[0-9]{1,11}")


class EditorLinkError(UserFacingError):
    """A link or a form that cannot be used; the message says what the member can do."""


class ForgedLink(EditorLinkError):
    def __init__(self) -> None:
        super().__init__(
            "This editor link is not valid: it was changed, or it was made for someone else. "
            "Press Vary (Region) under your upscaled image in Discord to get your own link."
        )


class ExpiredLink(EditorLinkError):
    def __init__(self, expired: datetime) -> None:
        super().__init__(
            "This editor link expired at {expired}. Press Vary (Region) under the image in "
            "Discord again for a new one.",
            expired=expired,
        )


class ForgedForm(EditorLinkError):
    def __init__(self) -> None:
        super().__init__(
            "This form was not sent from the editor page of this link, so nothing was queued. "
            "Open the link again and submit from there."
        )


@dataclass(frozen=True)
class EditorLink:
    """One member's link to edit one job's image until ``expires`` (whole seconds, UTC)."""

    job_id: int
    member_id: int
    expires: datetime
    signature: str

    @property
    def query(self) -> str:
        """The link's parts for the editor page's address (the web names the page)."""
        return urlencode(
            {
                "member": self.member_id,
                "expires": int(self.expires.timestamp()),
                "sig": self.signature,
            }
        )


class EditorLinks:
    """Makes and checks editor links with one secret; links live ``lifetime``."""

    def __init__(self, secret: bytes, *, lifetime: timedelta, clock: Clock) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self.lifetime = lifetime
        self._clock = clock

    def make(self, job_id: int, member_id: int) -> EditorLink:
        expires = datetime.fromtimestamp(int((self._clock() + self.lifetime).timestamp()), UTC)
        return EditorLink(job_id, member_id, expires, self._sign(job_id, member_id, expires))

    def check(self, job_id: int, member: str, expires: str, signature: str) -> EditorLink:
        """The link these parts (as they came in the address) make, if it is genuine and
        not expired: ForgedLink if any part was changed or is malformed, ExpiredLink once
        its time is past. The signature is compared in constant time."""
        if not (_ID.fullmatch(member) and _SECONDS.fullmatch(expires)):
            raise ForgedLink
        moment = datetime.fromtimestamp(int(expires), UTC)
        expected = self._sign(job_id, int(member), moment)
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise ForgedLink
        if self._clock() >= moment:
            raise ExpiredLink(moment)
        return EditorLink(job_id, int(member), moment, expected)

    def form_token(self, link: EditorLink) -> str:
        """The token the editor page of ``link`` sends with its form."""
        return self._mac(f"form\n{link.signature}")

    def check_form(self, link: EditorLink, token: str) -> None:
        if not hmac.compare_digest(
            self.form_token(link).encode(), token.encode("utf-8", "replace")
        ):
            raise ForgedForm

    def _sign(self, job_id: int, member_id: int, expires: datetime) -> str:
        return self._mac(f"edit\n{job_id}\n{member_id}\n{int(expires.timestamp())}")

    def _mac(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()
