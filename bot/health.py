"""``atelier health``: is the bot running here? For a container's HEALTHCHECK.

The bot's web server answers ``GET /healthz`` with 200 while it is healthy; this asks it on
the loopback address, with a short timeout, so a hung bot counts as unhealthy.
"""

from __future__ import annotations

import urllib.error
import urllib.request


def health_problem(port: int, timeout: float) -> str | None:
    """Why the bot on ``port`` is not healthy, or None if it says it is."""
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return f"no answer from {url} ({reason}); is the bot running (ATELIER_WEB_PORT)?"
    if status != 200:
        return f"{url} answered {status}"
    return None
