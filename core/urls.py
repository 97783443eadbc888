"""URLs members give, as Atelier publishes them for anyone to read."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

#: Where Discord serves attachments.
DISCORD_ATTACHMENT_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})


def published_url(url: str) -> str:
    """``url`` as a PNG's generation data may carry it: a Discord attachment URL without
    its query, other URLs as given.

    Discord signs attachment links for about a day (``ex``, ``is`` and ``hm`` in the
    query); a PNG travels for good, and the signature would let whoever has the file fetch
    the member's attachment until it expires. Without it the URL still says which
    attachment it was."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return url
    if host not in DISCORD_ATTACHMENT_HOSTS or not (parts.query or parts.fragment):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
