"""Which devices run inference, and in which precision."""

from __future__ import annotations

import torch

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_devices(spec: str, named_by: str = "ATELIER_DEVICES") -> list[str]:
    """Turn ``ATELIER_DEVICES`` (or what ``named_by`` gave) into device names, one worker each.

    ``auto`` means every visible CUDA GPU, else Apple's ``mps``, else the CPU; ``none`` no
    local worker (remote ones only). An explicit
    list such as ``cuda:0,cuda:1`` is taken as given (settings already checked its syntax),
    but a CUDA index this machine does not have is refused here, where it is known.
    """
    spec = spec.strip().lower()
    if spec == "none":  # remote workers only
        return []
    if spec == "auto":
        if torch.cuda.is_available():
            return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
        if torch.backends.mps.is_available():
            return ["mps"]
        return ["cpu"]
    devices = [part.strip() for part in spec.split(",") if part.strip()]
    for device in devices:
        if device.startswith("cuda"):
            index = int(device.split(":")[1])
            available = torch.cuda.device_count() if torch.cuda.is_available() else 0
            if index >= available:
                raise ValueError(
                    f"{named_by} names {device}, but this machine has {available} CUDA "
                    "device(s); use auto or cpu, or name existing GPUs"
                )
        elif device == "mps" and not torch.backends.mps.is_available():
            raise ValueError(f"{named_by} names mps, but Apple's Metal backend is unavailable")
    return devices


def resolve_dtype(device: str, preference: str = "auto") -> torch.dtype:
    """The weight precision for ``device``.

    ``auto`` is float16 on GPUs (half the memory, tensor cores; the standard way to run
    SD checkpoints) and float32 on the CPU, where half precision is slow or unsupported.
    ``bf16`` is offered for GPUs that have it: same memory as fp16, no overflow to NaN.
    """
    if preference == "auto":
        return torch.float32 if device == "cpu" else torch.float16
    if device == "cpu" and preference != "fp32":
        raise ValueError(
            f"ATELIER_DTYPE={preference} is not supported on the CPU; use fp32 or auto"
        )
    if preference == "bf16" and device.startswith("cuda"):
        index = int(device.split(":")[1])
        if not torch.cuda.is_bf16_supported() or torch.cuda.get_device_capability(index)[0] < 8:
            raise ValueError(f"{device} does not support bf16; use fp16 or auto")
    return DTYPES[preference]
