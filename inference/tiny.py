"""Tiny random-weight Stable Diffusion pipelines, built offline from the real classes.

``atelier make-tiny-model DIR`` saves one in diffusers format. It loads through exactly the
code that loads a real checkpoint, runs every code path (CFG, schedulers, img2img, VAE,
tiling) in a fraction of a second on a CPU, and needs no download: the CLIP vocabulary is
written here (one token per byte, no merges) instead of fetched from the hub. Its images
are noise-like — the point is the machinery, not the art.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from diffusers import (
    AutoencoderKL,
    EulerDiscreteScheduler,
    StableDiffusionInpaintPipeline,
    StableDiffusionPipeline,
    StableDiffusionXLInpaintPipeline,
    StableDiffusionXLPipeline,
    UNet2DConditionModel,
)
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTextModelWithProjection,
    CLIPTokenizer,
)

TinyArch = Literal["sd", "sdxl"]

#: Pixel size the tiny models are trained for (UNet sample size 32, VAE factor 2).
TINY_NATIVE_SIZE = 64
_TEXT_HIDDEN = 8
#: CLIP's start and end tokens, as every CLIP vocabulary spells them.
START_TOKEN, END_TOKEN = "<|startoftext|>", "<|endoftext|>"


def byte_level_vocab() -> dict[str, int]:
    """A complete CLIP vocabulary without merges: each byte, alone and word-final.

    CLIP's tokenizer maps raw bytes to printable characters (bytes that are already
    printable map to themselves, the rest to code points from 256 up) and marks the end of
    a word with ``</w>``. With every such character in both forms, any text tokenizes.
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    shifted = [byte for byte in range(256) if byte not in printable]
    characters = [chr(byte) for byte in printable] + [chr(256 + n) for n in range(len(shifted))]
    tokens = characters + [char + "</w>" for char in characters] + [START_TOKEN, END_TOKEN]
    return {token: index for index, token in enumerate(tokens)}


def build_tiny_pipeline(arch: TinyArch = "sd", seed: int = 0, *, inpainting: bool = False) -> Any:
    """A random-weight pipeline with real diffusers/transformers classes and tiny configs.
    ``inpainting``: a dedicated inpainting model, whose UNet also reads the mask and the
    masked image (9 input channels), in the family's inpainting pipeline."""
    torch.manual_seed(seed)
    vocab = byte_level_vocab()
    channels = 9 if inpainting else 4
    if arch == "sd":
        sd = StableDiffusionInpaintPipeline if inpainting else StableDiffusionPipeline
        return sd(
            unet=_tiny_unet(cross_attention_dim=_TEXT_HIDDEN, in_channels=channels),
            vae=_tiny_vae(),
            text_encoder=CLIPTextModel(_text_config(vocab)),
            tokenizer=clip_tokenizer(vocab),
            scheduler=sd_scheduler(),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False,
        )
    time_embed_dim = 4
    sdxl = StableDiffusionXLInpaintPipeline if inpainting else StableDiffusionXLPipeline
    return sdxl(
        unet=_tiny_unet(
            cross_attention_dim=2 * _TEXT_HIDDEN,
            in_channels=channels,
            addition_embed_type="text_time",
            addition_time_embed_dim=time_embed_dim,
            # six micro-conditioning numbers (sizes, crop) plus the pooled text vector
            projection_class_embeddings_input_dim=6 * time_embed_dim + _TEXT_HIDDEN,
        ),
        vae=_tiny_vae(),
        text_encoder=CLIPTextModel(_text_config(vocab)),
        text_encoder_2=CLIPTextModelWithProjection(_text_config(vocab)),
        tokenizer=clip_tokenizer(vocab),
        tokenizer_2=clip_tokenizer(vocab),
        scheduler=sd_scheduler(),
    )


def save_tiny_model(
    directory: Path, arch: TinyArch = "sd", seed: int = 0, *, inpainting: bool = False
) -> Path:
    """Build a tiny pipeline and save it in diffusers format under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    pipe = build_tiny_pipeline(arch, seed, inpainting=inpainting)
    pipe.save_pretrained(directory, safe_serialization=True)
    return directory


def _tiny_unet(
    cross_attention_dim: int, in_channels: int = 4, **extra: Any
) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=TINY_NATIVE_SIZE // 2,
        in_channels=in_channels,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=2,
        norm_num_groups=2,
        **extra,
    )


def _tiny_vae() -> AutoencoderKL:
    return AutoencoderKL(
        block_out_channels=(4, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=2,
        sample_size=TINY_NATIVE_SIZE,
    )


def _text_config(vocab: dict[str, int]) -> CLIPTextConfig:
    return CLIPTextConfig(
        hidden_size=_TEXT_HIDDEN,
        intermediate_size=2 * _TEXT_HIDDEN,
        projection_dim=_TEXT_HIDDEN,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=len(vocab),
        max_position_embeddings=77,
        bos_token_id=vocab[START_TOKEN],
        eos_token_id=vocab[END_TOKEN],
        pad_token_id=vocab[END_TOKEN],
    )


def clip_tokenizer(vocab: dict[str, int]) -> CLIPTokenizer:
    """CLIP's tokenizer over ``vocab`` with no merges (see :func:`byte_level_vocab`)."""
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def sd_scheduler() -> EulerDiscreteScheduler:
    """Stable Diffusion's own noise schedule, so samplers behave as with a real model."""
    return EulerDiscreteScheduler(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        timestep_spacing="leading",
    )
