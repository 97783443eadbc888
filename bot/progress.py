"""A terminal progress bar for the command line (the bot shows progress in Discord instead)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class ProgressBar:
    """Redraws one line on a terminal; on a pipe or file it prints only the final line,
    so logs are not flooded with carriage returns."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        """``stream`` defaults to the ``sys.stderr`` of the moment the bar is made."""
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._interactive = self._stream.isatty()
        self._lock = threading.Lock()  # called from the worker thread
        self._last = ""

    def update(self, step: int, total: int) -> None:
        """Step ``step`` of ``total`` is done (may be called from any thread)."""
        filled = round(self._width * step / max(total, 1))
        percent = round(100 * step / max(total, 1))
        bar = "█" * filled + "░" * (self._width - filled)
        with self._lock:
            self._last = f"{self._label} [{bar}] {percent:3d}% step {step}/{total}"
            if self._interactive:
                self._stream.write("\r" + self._last)
                self._stream.flush()

    def finish(self) -> None:
        with self._lock:
            if self._last:
                self._stream.write(("\r" if self._interactive else "") + self._last + "\n")
                self._stream.flush()
