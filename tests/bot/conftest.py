"""Shared by the bot tests: the root logger is put back as it was after every test, and
the Hugging Face hub is never asked (it is the loopback unless a test serves one)."""

from __future__ import annotations

import logging
from collections.abc import Generator

import pytest

#: A loopback port where nothing listens: asking the "hub" there is refused at once.
CLOSED_HUB = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """``atelier check`` and ``run`` ask the hub whether a model exists: in tests (and their
    subprocesses) that is a closed port on 127.0.0.1, never the internet."""
    monkeypatch.setenv("HF_ENDPOINT", CLOSED_HUB)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Undo ``setup_logging`` (called by the tests and by every CLI command) after each test.

    It replaces the root logger's handlers with one writing to the ``sys.stderr`` of that
    moment, which is capsys's buffer and is closed after the test. This is a hook around the
    test call rather than a fixture: a fixture's snapshot is taken during set-up, when
    pytest's own per-phase log handlers are attached, and restoring it later would leave
    those stale handlers on the root logger for the rest of the session.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return (yield)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
