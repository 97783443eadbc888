"""A private Ray for a test module, on 127.0.0.1 only; its tests skip when Ray is absent.

Import this module before anything imports Ray: Ray keeps a local cluster's connections on
loopback only when ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` is set first (it otherwise uses
the machine's network address).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[cluster]'")

#: Logical CPUs of the test's Ray: each remote CPU worker reserves one.
CPUS = 2


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One Ray per test module: starting one takes seconds."""
    ray.init(num_cpus=CPUS, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
