"""Shared by the bot tests: the root logger is put back as it was after every test."""

from __future__ import annotations

import logging
from collections.abc import Generator

import pytest


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
