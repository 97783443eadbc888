"""How this process meets Ray: the settings Ray's client reads from the environment, set in
one place before Ray starts, and whether a cluster's head can be reached at all.

Neither Ray nor torch is imported here: ``atelier check`` asks the head without them.

Measured with Ray 2.60 on these machines:

- Ray's client in a process gives up on a head (its GCS) that went away after
  ``RAY_gcs_rpc_server_reconnect_timeout_s`` seconds (60 by default) and then *ends the
  process*: a bot whose head was down for a minute exited. The pool notices a lost head
  itself within seconds, disconnects and reconnects when it is back, so the client here is
  told to wait (practically) forever instead.
- Any Ray call made while this process is not connected starts a private Ray in it (Ray's
  auto-connect): a worker thread still winding down after its head went away started one.
- A local Ray keeps every connection on 127.0.0.1 only with
  ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` set (else it uses the machine's network
  address): for ``local``, for the tests and for the benchmark.

Values an operator set in the environment win.
"""

from __future__ import annotations

import os
import socket

CLIENT_SETTINGS = {
    # Ray's client keeps trying a head that went away for a year rather than end the bot.
    "RAY_gcs_rpc_server_reconnect_timeout_s": str(365 * 24 * 3600),
    # A Ray call made while the pool is not connected (a worker thread still winding down
    # after the head went away) fails, instead of starting a private Ray in the bot.
    "RAY_ENABLE_AUTO_CONNECT": "0",
}
#: Every connection of a local Ray on 127.0.0.1.
LOOPBACK_SETTINGS = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def prepare(*, loopback: bool) -> None:
    """Set Ray's environment for this process; call it before ``ray.init`` (before Ray is
    imported, for ``loopback``). ``loopback``: a local Ray on 127.0.0.1 only."""
    for name, value in (CLIENT_SETTINGS | (LOOPBACK_SETTINGS if loopback else {})).items():
        os.environ.setdefault(name, value)


def head_endpoint(address: str) -> tuple[str, int] | None:
    """Host and port of a cluster address (``10.0.0.5:6379``, ``ray://…`` is not one);
    None for ``auto``, ``local`` or anything that names no port."""
    host, colon, port = address.strip().rpartition(":")
    if not colon or not host or "/" in host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def unreachable(host: str, port: int, timeout: float) -> str | None:
    """None if a TCP connection to ``host:port`` opens within ``timeout`` seconds; else why
    not, in a few words."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as error:
        return error.strerror or type(error).__name__
    return None
