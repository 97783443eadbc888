"""The grid and the latent preview."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from inference.images import latent_preview, make_grid

COLOURS = ["red", "green", "blue", "white"]


def test_grid_puts_four_images_two_by_two_in_reading_order() -> None:
    grid = make_grid([Image.new("RGB", (10, 6), colour) for colour in COLOURS])
    assert grid.size == (20, 12)
    corners = [grid.getpixel((x, y)) for y in (0, 6) for x in (0, 10)]
    assert corners == [(255, 0, 0), (0, 128, 0), (0, 0, 255), (255, 255, 255)]


def test_grid_of_one_is_the_image() -> None:
    grid = make_grid([Image.new("RGB", (10, 6), "red")])
    assert grid.size == (10, 6)


def test_grid_needs_images() -> None:
    with pytest.raises(ValueError, match="at least one"):
        make_grid([])


@pytest.mark.parametrize("is_sdxl", [False, True])
def test_latent_preview_is_a_grid_at_latent_resolution(is_sdxl: bool) -> None:
    latents = torch.randn(4, 4, 12, 20)
    preview = latent_preview(latents, is_sdxl=is_sdxl)
    assert preview.size == (40, 24)
    assert preview.mode == "RGB"
    assert len(preview.getcolors(maxcolors=10_000) or []) > 1


def test_latent_preview_follows_the_latents() -> None:
    """The first latent channel is mostly brightness in SD's latent space."""
    dark = latent_preview(
        torch.full((1, 4, 8, 8), -2.0) * torch.tensor([1, 0, 0, 0]).view(1, 4, 1, 1), is_sdxl=False
    )
    light = latent_preview(
        torch.full((1, 4, 8, 8), 2.0) * torch.tensor([1, 0, 0, 0]).view(1, 4, 1, 1), is_sdxl=False
    )
    assert sum(dark.getpixel((0, 0))) < sum(light.getpixel((0, 0)))
