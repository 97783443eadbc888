"""Planning jobs: sizes, seeds, steps and lineage of each kind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from db.jobs import JobKind
from inference.jobs import (
    EngineDefaults,
    GenerationJob,
    image_seed,
    plan_imagine,
    plan_reroll,
    plan_rework,
    plan_upscale,
    plan_variation,
)
from inference.params import parse
from inference.rework import region_placement

DEFAULTS = EngineDefaults(steps=30, sampler="euler_a")


def _imagine(prompt: str, native: int = 512) -> GenerationJob:
    return plan_imagine(parse(prompt)[0], model="sd15", native_size=native, defaults=DEFAULTS)


def test_imagine_fills_in_the_operator_defaults() -> None:
    job = _imagine("a fox --seed 3")
    assert (job.kind, job.steps, job.sampler, job.num_images) == (JobKind.IMAGINE, 30, "euler_a", 4)
    assert (job.width, job.height) == (512, 512)
    assert job.seeds == [3, 4, 5, 6]


def test_prompt_flags_override_the_defaults() -> None:
    job = _imagine("a fox --ar 16:9 --steps 20 --q 2 --sampler ddim")
    assert (job.width, job.height, job.steps, job.sampler) == (704, 384, 40, "ddim")


def test_quality_scales_steps() -> None:
    assert _imagine("a fox --q .5").steps == 15
    assert _imagine("a fox --q .25").steps == 8  # round(7.5) to even


def test_without_a_seed_each_job_draws_one() -> None:
    seeds = {_imagine("a fox").seed for _ in range(20)}
    assert len(seeds) > 1
    assert all(0 <= seed < 2**32 for seed in seeds)


def test_seeds_wrap_at_two_to_the_32() -> None:
    assert _imagine("a fox --seed 4294967294").seeds == [4294967294, 4294967295, 0, 1]
    assert image_seed(4294967295, 1) == 0


def test_reroll_keeps_everything_but_the_seed() -> None:
    parent = _imagine("a fox --ar 3:2 --chaos 20")
    reroll = plan_reroll(parent)
    assert reroll.kind == JobKind.REROLL
    assert len({plan_reroll(parent).seed for _ in range(5)} - {parent.seed}) >= 4
    assert (reroll.request, reroll.width, reroll.steps) == (
        parent.request,
        parent.width,
        parent.steps,
    )


def test_variation_starts_from_the_image_at_its_size() -> None:
    parent = _imagine("a fox --ar 3:2")
    job = plan_variation(parent, image_path="/images/1-2.png", strength=0.7)
    assert (job.kind, job.num_images, job.init_image, job.strength) == (
        JobKind.VARIATION,
        4,
        "/images/1-2.png",
        0.7,
    )
    assert (job.width, job.height) == (parent.width, parent.height)


def test_upscale_doubles_one_image_and_keeps_its_seed() -> None:
    parent = _imagine("a fox --ar 3:2 --seed 10")
    job = plan_upscale(parent, index=2, image_path="/images/1-3.png", defaults=DEFAULTS)
    assert (job.kind, job.num_images, job.seed) == (JobKind.UPSCALE, 1, 12)
    assert (job.width, job.height) == (2 * parent.width, 2 * parent.height)
    assert job.strength == DEFAULTS.upscale_strength


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_img2img_always_runs_at_least_one_step(steps: int) -> None:
    parent = _imagine(f"a fox --steps {steps}")
    job = plan_upscale(parent, index=0, image_path="x.png", defaults=DEFAULTS)
    assert job.steps * (job.strength or 0) >= 1


def test_jobs_survive_a_trip_through_json() -> None:
    import json

    job = plan_variation(
        _imagine("red:: fox::-0.5 --tile --stop 50 --no snow"), image_path="p.png", strength=0.35
    )
    assert GenerationJob.from_params(json.loads(json.dumps(job.to_params()))) == job


def test_a_job_names_every_file_it_reads_and_can_read_them_elsewhere() -> None:
    """What a remote worker gets as bytes and writes on its own node: a region reads its
    image and its mask, a variation its image, an /imagine nothing."""
    imagine = _imagine("a fox")
    region = plan_rework(
        imagine,
        kind=JobKind.REGION,
        image_path="/data/images/1-0.png",
        placement=region_placement((1024, 1024), 512),
        mask=("/data/inputs/mask-ab.png", "ab" * 32),
        defaults=DEFAULTS,
    )
    variation = plan_variation(imagine, image_path="/data/images/1-0.png", strength=0.35)
    assert imagine.input_files == ()
    assert variation.input_files == ("/data/images/1-0.png",)
    assert region.input_files == ("/data/images/1-0.png", "/data/inputs/mask-ab.png")

    moved = region.with_input_files(["/node/0.png", "/node/1.png"])
    assert moved.input_files == ("/node/0.png", "/node/1.png")
    assert moved.rework is not None
    assert region.rework is not None
    assert moved.rework.mask_sha256 == region.rework.mask_sha256
    assert replace(moved, init_image=region.init_image, rework=region.rework) == region
    assert variation.with_input_files(["/node/0.png"]).init_image == "/node/0.png"
    with pytest.raises(ValueError, match="shorter"):
        region.with_input_files(["/node/0.png"])  # one path per file
