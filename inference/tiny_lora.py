"""Random LoRA files for a given pipeline, written offline in the two formats members
download: diffusers/PEFT (``unet.….lora_A.weight``) and kohya/A1111 (``lora_unet_…``,
``lora_te_…`` with ``lora_down``/``lora_up``/``alpha``). Built from the pipeline's own
attention modules, so they fit the tiny test model as well as a full-size one (the tests
and ``bench.pool`` use them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import save_file

LoraFormat = Literal["diffusers", "kohya"]

#: The projections a LoRA adapts: the UNet's attention and the text encoder's attention.
_UNET_TARGETS = (".to_q", ".to_k", ".to_v", ".to_out.0")
_TEXT_TARGETS = (".q_proj", ".k_proj", ".v_proj", ".out_proj")


def lora_state_dict(
    pipe: Any, fmt: LoraFormat, *, rank: int = 2, seed: int = 0, scale: float = 0.5
) -> dict[str, torch.Tensor]:
    """A LoRA for ``pipe``'s UNet and first text encoder, with random weights of about
    ``scale`` (large enough that a weight of 1 visibly changes a tiny model's pixels)."""
    generator = torch.Generator().manual_seed(seed)
    tensors: dict[str, torch.Tensor] = {}
    parts = (("unet", pipe.unet, _UNET_TARGETS), ("text_encoder", pipe.text_encoder, _TEXT_TARGETS))
    for prefix, network, targets in parts:
        for found_name, module in network.named_modules():
            # Once a LoRA is loaded, the projection is the ``base_layer`` of a LoRA layer.
            module_name = found_name.removesuffix(".base_layer")
            if not isinstance(module, torch.nn.Linear) or not module_name.endswith(targets):
                continue
            down = torch.randn(rank, module.in_features, generator=generator) * scale
            up = torch.randn(module.out_features, rank, generator=generator) * scale
            if fmt == "diffusers":
                tensors[f"{prefix}.{module_name}.lora_A.weight"] = down
                tensors[f"{prefix}.{module_name}.lora_B.weight"] = up
            else:
                # Model sites' files name the text encoder's modules from ``text_model``
                # (transformers 4's layout); diffusers maps them onto either layout.
                if prefix == "text_encoder" and not module_name.startswith("text_model."):
                    module_name = f"text_model.{module_name}"
                kohya_prefix = "lora_unet" if prefix == "unet" else "lora_te"
                stem = f"{kohya_prefix}_{module_name.replace('.', '_')}"
                tensors[f"{stem}.lora_down.weight"] = down
                tensors[f"{stem}.lora_up.weight"] = up
                tensors[f"{stem}.alpha"] = torch.tensor(float(rank))
    return tensors


def save_tiny_lora(
    pipe: Any, path: Path, fmt: LoraFormat = "diffusers", *, seed: int = 0, rank: int = 2
) -> Path:
    """Write a random LoRA for ``pipe`` to ``path`` (a ``.safetensors`` file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {
        k: v.contiguous() for k, v in lora_state_dict(pipe, fmt, seed=seed, rank=rank).items()
    }
    save_file(tensors, str(path))
    return path
