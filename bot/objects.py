"""The process's long-lived objects and the garbage collector."""

from __future__ import annotations

import gc


def freeze_start_up_objects() -> None:
    """Keep what is imported by now out of the garbage collector's full collections: it
    lives as long as the process. With torch, diffusers and transformers loaded, each full
    collection walked ~450,000 objects and held the event loop for 0.3–1.5 s, every few
    seconds while the web studio was busy (``python -m bench.web``). Process entry points
    call it once; tests, which start many bots in one process, do not."""
    gc.collect()
    gc.freeze()
