"""A random IP-Adapter and image encoder for a given pipeline, written offline in the layout
of h94/IP-Adapter: ``models/ip-adapter_tiny.safetensors`` (``image_proj.*`` and
``ip_adapter.N.to_k_ip/to_v_ip`` weights, as the published adapters name them) beside
``models/image_encoder`` (a transformers ``CLIPVisionModelWithProjection``). Built from the
pipeline's own cross-attention layers, so it loads through the very code that loads a
published adapter (the tests and ``atelier make-tiny-model --ip-adapter`` use it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers.models.attention_processor import Attention
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

from inference.models import IMAGE_ENCODER_FOLDER

#: Image tokens per image of a plain IP-Adapter (the count diffusers assumes for them).
_IMAGE_TOKENS = 4
#: Width of the tiny image encoder's image embedding.
_IMAGE_EMBED = 8
#: Side of the images the tiny image encoder reads.
TINY_ENCODER_IMAGE_SIZE = 32


def ip_adapter_state_dict(
    pipe: Any, *, seed: int = 0, scale: float = 0.5
) -> dict[str, torch.Tensor]:
    """A plain IP-Adapter for ``pipe``'s UNet with random weights of about ``scale``.

    The attention weights are numbered as published adapters number them: 1, 3, 5, … over
    the UNet's cross-attention layers in order (the even numbers were the self-attention
    layers, which an IP-Adapter leaves alone).
    """
    generator = torch.Generator().manual_seed(seed)
    width = int(pipe.unet.config.cross_attention_dim)
    tensors = {
        "image_proj.proj.weight": torch.randn(
            _IMAGE_TOKENS * width, _IMAGE_EMBED, generator=generator
        )
        * scale,
        "image_proj.proj.bias": torch.randn(_IMAGE_TOKENS * width, generator=generator) * scale,
        "image_proj.norm.weight": torch.ones(width),
        "image_proj.norm.bias": torch.zeros(width),
    }
    cross_attention = [
        module
        for name, module in pipe.unet.named_modules()
        if isinstance(module, Attention) and name.endswith("attn2")
    ]
    for number, attention in zip(
        range(1, 2 * len(cross_attention), 2), cross_attention, strict=True
    ):
        shape = attention.to_k.weight.shape  # (hidden size, cross-attention width)
        for target in ("to_k_ip", "to_v_ip"):
            tensors[f"ip_adapter.{number}.{target}.weight"] = (
                torch.randn(shape, generator=generator) * scale
            )
    return tensors


def tiny_image_encoder(seed: int = 0) -> CLIPVisionModelWithProjection:
    torch.manual_seed(seed)
    config = CLIPVisionConfig(
        hidden_size=8,
        intermediate_size=16,
        projection_dim=_IMAGE_EMBED,
        num_attention_heads=2,
        num_hidden_layers=2,
        image_size=TINY_ENCODER_IMAGE_SIZE,
        patch_size=8,
    )
    return CLIPVisionModelWithProjection(config)


def save_tiny_ip_adapter(pipe: Any, directory: Path, *, seed: int = 0) -> Path:
    """Write a random IP-Adapter for ``pipe`` and its image encoder under ``directory``;
    returns the adapter's file (what ``ATELIER_IP_ADAPTER`` names; the encoder is found
    beside it)."""
    models = directory / "models"
    models.mkdir(parents=True, exist_ok=True)
    path = models / "ip-adapter_tiny.safetensors"
    tensors = {
        key: value.contiguous() for key, value in ip_adapter_state_dict(pipe, seed=seed).items()
    }
    save_file(tensors, str(path))
    tiny_image_encoder(seed).save_pretrained(models / IMAGE_ENCODER_FOLDER, safe_serialization=True)
    return path
