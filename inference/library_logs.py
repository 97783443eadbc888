"""Silencing the advice and progress bars diffusers and transformers print by default."""

from __future__ import annotations

from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging


def quiet_library_logs() -> None:
    """Keep only the libraries' errors. Call before the first pipeline import: transformers
    warns about optional packages (torchvision) while diffusers imports it, and the bot
    reports progress itself rather than through their progress bars."""
    for library in (diffusers_logging, transformers_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()
