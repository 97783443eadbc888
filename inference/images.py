"""Image utilities: the 2×2 grid and cheap latent previews."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from PIL import Image

# Linear approximations of the VAE decoder (latent channels → RGB, plus a bias), good
# enough for a blurry progress preview at 1/8 resolution without running the VAE. These
# are the widely used community fits for each latent space.
_SD1_LATENT_RGB = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
_SD1_LATENT_BIAS = (0.0, 0.0, 0.0)
_SDXL_LATENT_RGB = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
_SDXL_LATENT_BIAS = (0.1084, -0.0175, -0.0011)


def make_grid(images: Sequence[Image.Image]) -> Image.Image:
    """Tile images into a near-square grid (2×2 for four), row by row, no gaps.

    Images are assumed to share one size, as every image of a job does.
    """
    if not images:
        raise ValueError("a grid needs at least one image")
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    width, height = images[0].size
    grid = Image.new("RGB", (columns * width, rows * height))
    for index, image in enumerate(images):
        grid.paste(image.convert("RGB"), ((index % columns) * width, (index // columns) * height))
    return grid


def latent_preview(latents: torch.Tensor, *, is_sdxl: bool) -> Image.Image:
    """A grid preview of a batch of latents (B×4×h×w) at latent resolution.

    Costs one small matrix product and a copy to the CPU: cheap enough to run between
    denoising steps.
    """
    factors, bias = (
        (_SDXL_LATENT_RGB, _SDXL_LATENT_BIAS) if is_sdxl else (_SD1_LATENT_RGB, _SD1_LATENT_BIAS)
    )
    weights = torch.tensor(factors, dtype=torch.float32)
    latents = latents.detach().to(device="cpu", dtype=torch.float32)
    channels = min(latents.shape[1], weights.shape[0])
    rgb = torch.einsum("bchw,cr->bhwr", latents[:, :channels], weights[:channels])
    rgb = rgb + torch.tensor(bias, dtype=torch.float32)
    pixels = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    return make_grid([Image.fromarray(frame, mode="RGB") for frame in pixels])
