"""Choosing devices and precision."""

from __future__ import annotations

import pytest
import torch

from inference.devices import resolve_devices, resolve_dtype

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without a GPU")


def test_cpu_is_cpu() -> None:
    assert resolve_devices("cpu") == ["cpu"]


@no_cuda
def test_auto_falls_back_to_the_cpu_without_a_gpu() -> None:
    if torch.backends.mps.is_available():
        pytest.skip("Apple GPU present")
    assert resolve_devices("auto") == ["cpu"]


@no_cuda
def test_a_gpu_this_machine_lacks_is_refused_with_the_count() -> None:
    with pytest.raises(ValueError, match=r"names cuda:1, but this machine has 0 CUDA device"):
        resolve_devices("cuda:1")


def test_precision_defaults_to_float32_on_the_cpu_and_half_on_gpus() -> None:
    assert resolve_dtype("cpu") == torch.float32
    assert resolve_dtype("cuda:0") == torch.float16
    assert resolve_dtype("cuda:0", "fp32") == torch.float32


def test_half_precision_on_the_cpu_is_refused() -> None:
    with pytest.raises(ValueError, match="not supported on the CPU"):
        resolve_dtype("cpu", "fp16")
