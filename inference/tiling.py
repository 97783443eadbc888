"""``--tile``: seamless textures by making every convolution wrap around the image edges."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def circular_padding(models: Iterable[nn.Module], enabled: bool = True) -> Iterator[None]:
    """Switch every ``Conv2d`` in ``models`` to circular padding for the duration of a job.

    The models are shared by every job on the worker, so the previous padding modes are
    restored afterwards, whatever happens inside, and the next job is unaffected. A
    ``Conv2d`` computes its padding amounts in ``__init__`` for every mode, so changing
    ``padding_mode`` on a live module is enough.
    """
    if not enabled:
        yield
        return
    convolutions = [
        module for model in models for module in model.modules() if isinstance(module, nn.Conv2d)
    ]
    previous = [conv.padding_mode for conv in convolutions]
    for conv in convolutions:
        conv.padding_mode = "circular"
    try:
        yield
    finally:
        for conv, mode in zip(convolutions, previous, strict=True):
            conv.padding_mode = mode
