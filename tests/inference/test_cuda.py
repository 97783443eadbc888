"""The CUDA path: half precision, device placement, the fast kernels. Runs only on a GPU."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import AttnProcessor2_0

from inference.backend import DiffusersBackend
from inference.jobs import LoraUse
from inference.models import ModelRef
from tests.helpers.inference import pixels, plan

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_generates_in_half_precision_on_the_gpu(tiny_model_dir: Path, precision: str) -> None:
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cuda:0", precision)
    pipe = backend.pipeline
    assert pipe.unet.device.type == "cuda"
    assert pipe.unet.dtype == {"fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    assert all(isinstance(p, AttnProcessor2_0) for p in pipe.unet.attn_processors.values())
    job = plan(backend, "a red car --seed 3 --ar 3:2 --chaos 20 --tile")
    first = backend.generate(job)
    second = backend.generate(job)
    for image in first:
        values = pixels(image)
        assert np.isfinite(values).all()
        assert values.std() > 1  # not a flat (NaN-turned-black) image
    assert first[0].tobytes() == second[0].tobytes()


def test_the_same_seed_starts_from_the_same_noise_on_cpu_and_gpu(
    tiny_model_dir: Path, tiny_backend: DiffusersBackend
) -> None:
    """CPU generators make a seed portable: GPU results are close to the CPU's, though
    not bit-identical (different kernels)."""
    gpu = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cuda:0", "fp32")
    job = plan(tiny_backend, "a red car --seed 3 --sampler euler")
    on_cpu = pixels(tiny_backend.generate(job)[0])
    on_gpu = pixels(gpu.generate(job)[0])
    assert np.abs(on_cpu - on_gpu).mean() < 2.0


def test_a_gpu_batch_keeps_each_job_close_to_its_solo_run(tiny_model_dir: Path) -> None:
    """On a GPU, batched and solo runs use different kernels: close, not bitwise equal."""
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cuda:0", "fp16")
    jobs = [plan(backend, f"a red car --seed {seed} --chaos 30") for seed in (1, 50, 900)]
    batched = backend.generate_batch(jobs)
    for job, images in zip(jobs, batched, strict=True):
        alone = backend.generate(job)
        for together, single in zip(images, alone, strict=True):
            assert np.abs(pixels(together) - pixels(single)).mean() < 2.0
    assert backend.weights_bytes() > 0


def test_the_pool_sizes_gpu_workers_from_the_device() -> None:
    from inference.pool.config import PoolConfig
    from inference.pool.worker import AUTO_VRAM_SHARE, GPU_MAX_BATCH_IMAGES, worker_config

    config = worker_config(PoolConfig(devices=("cuda:0",)), "cuda:0")
    total = torch.cuda.get_device_properties(0).total_memory
    assert config.max_batch_images == GPU_MAX_BATCH_IMAGES
    assert config.vram_budget_bytes == int(total * AUTO_VRAM_SHARE)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_loras_switch_cleanly_in_half_precision_on_the_gpu(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], precision: str
) -> None:
    """Adapters land on the GPU next to the weights they adapt; weight 0 and a plain job
    after a LoRA job give the base pixels exactly, as on the CPU."""
    if precision == "bf16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bf16")
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cuda:0", precision)
    job = plan(backend, "a fox --seed 5")
    base = backend.generate(job)

    def with_lora(fmt: str, weight: float) -> list[bytes]:
        lora = LoraUse(f"{fmt}:1", str(tiny_lora_files[fmt]), None, weight)
        return [image.tobytes() for image in backend.generate(replace(job, loras=(lora,)))]

    assert with_lora("kohya", 0.0) == [image.tobytes() for image in base]
    changed = with_lora("diffusers", 1.0)
    assert changed != [image.tobytes() for image in base]
    lora_devices = {
        parameter.device.type
        for name, parameter in backend.pipeline.unet.named_parameters()
        if "lora_" in name
    }
    assert lora_devices == {"cuda"}
    assert [image.tobytes() for image in backend.generate(job)] == [
        image.tobytes() for image in base
    ]
