"""``--tile``: circular padding turns the generated image into a seamless torus."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from inference.backend import DiffusersBackend
from inference.tiling import circular_padding


def _decode_from(backend: DiffusersBackend, latents: torch.Tensor) -> np.ndarray:
    result = backend.pipeline(
        prompt="a brick wall",
        latents=latents,
        num_inference_steps=2,
        output_type="np",
    )
    return np.asarray(result.images[0])


def test_tiled_generation_is_seamless(tiny_backend: DiffusersBackend) -> None:
    """Shifting the starting noise shifts the finished image by the same amount, wrapping
    around the edges: every column's neighbour across the border is as real as any other,
    which is what makes a texture tile without seams. Zero padding breaks this."""
    latents = torch.randn((1, 4, 32, 32), generator=torch.Generator().manual_seed(0))
    shifted = torch.roll(latents, shifts=(4, 8), dims=(2, 3))  # whole strides of the UNet
    pixel_shift = (8, 16)  # the tiny VAE doubles the latent size

    with circular_padding(tiny_backend.modules):
        image = _decode_from(tiny_backend, latents)
        image_of_shifted = _decode_from(tiny_backend, shifted)
    np.testing.assert_allclose(
        np.roll(image, pixel_shift, axis=(0, 1)), image_of_shifted, atol=1e-4
    )

    plain = _decode_from(tiny_backend, latents)
    plain_of_shifted = _decode_from(tiny_backend, shifted)
    assert np.abs(np.roll(plain, pixel_shift, axis=(0, 1)) - plain_of_shifted).max() > 1e-2


def test_padding_is_restored_even_when_the_job_fails() -> None:
    model = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 1), nn.ReLU())
    seen: list[set[str]] = []

    def failing_job() -> None:
        with circular_padding([model]):
            seen.append({m.padding_mode for m in model if isinstance(m, nn.Conv2d)})
            raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError):
        failing_job()
    assert seen == [{"circular"}]
    assert {m.padding_mode for m in model if isinstance(m, nn.Conv2d)} == {"zeros"}


def test_disabled_tiling_changes_nothing() -> None:
    model = nn.Conv2d(3, 3, 3, padding=1, padding_mode="reflect")
    with circular_padding([model], enabled=False):
        assert model.padding_mode == "reflect"
    assert model.padding_mode == "reflect"
