"""A private Ray for a test module, on 127.0.0.1 only; its tests skip when Ray is absent.

Import this module before anything imports Ray: Ray keeps a local cluster's connections on
loopback only when ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` is set first (it otherwise uses
the machine's network address); :func:`inference.pool.ray_env.prepare` sets it, with the
rest of what Ray's client reads from the environment.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.pool import ray_env

ray_env.prepare(loopback=True)
# Token authentication on, as the README asks of a cluster (Ray 2.60 turns it on for every
# Ray a test starts), with a token of this test run's own: the private Rays and the heads
# the tests start (the head inherits this environment) use the same mode and token.
os.environ.setdefault("RAY_AUTH_MODE", "token")
os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]'")

#: Logical CPUs of the test's Ray: each remote CPU worker reserves one.
CPUS = 2


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray per test module: starting one takes seconds."""
    ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RayHead:
    """A Ray head started by ``ray start --head --block`` as a process group of its own, on
    127.0.0.1 only: a test can kill the whole head (its GCS, its raylet) at once and start
    it again at the same address, as an operator's head that went down and came back.

    Every port it opens is chosen free on 127.0.0.1 (other tests on the machine start Rays
    too), and its files go to a folder of the test's.
    """

    def __init__(self, folder: Path) -> None:
        self.port = _free_port()
        self._folder = folder
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        ray_cli = Path(sys.executable).with_name("ray")
        command = [
            str(ray_cli),
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={self.port}",
            f"--num-cpus={CPUS}",
            "--num-gpus=0",
            "--include-dashboard=false",
            f"--dashboard-port={_free_port()}",
            f"--dashboard-agent-listen-port={_free_port()}",
            "--disable-usage-stats",
            f"--temp-dir={self._folder}",
        ]
        environment = os.environ | ray_env.LOOPBACK_SETTINGS
        with (self._folder / "head.log").open("ab") as log:
            self._process = subprocess.Popen(
                command,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while ray_env.unreachable("127.0.0.1", self.port, 0.5) is not None:
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Ray head did not start: see {self._folder / 'head.log'}")
            time.sleep(0.2)

    def kill(self) -> None:
        """The whole head at once, as a machine that lost power."""
        if self._process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()
        self._process = None


@pytest.fixture
def ray_head() -> Iterator[RayHead]:
    """A Ray head of the test's own, started; killed when the test ends."""
    # A short folder: Ray's socket paths live under it, and a socket path's length is limited.
    folder = Path(tempfile.mkdtemp(prefix="atelier-ray-"))
    head = RayHead(folder)
    try:
        head.start()
        yield head
    finally:
        head.kill()
        shutil.rmtree(folder, ignore_errors=True)
