"""The diffusers backend on the tiny model: determinism, seeds, chaos, tiling, img2img, stop."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from torch import nn

from inference.backend import DiffusersBackend, JobCancelled, StepEvent
from inference.jobs import plan_upscale, plan_variation
from inference.params import SAMPLERS
from tests.helpers.inference import FAST, mean_abs_diff, plan


def _convolutions(backend: DiffusersBackend) -> list[nn.Conv2d]:
    return [m for model in backend.modules for m in model.modules() if isinstance(m, nn.Conv2d)]


def test_same_prompt_and_seed_give_identical_pixels(tiny_backend: DiffusersBackend) -> None:
    job = plan(tiny_backend, "a lighthouse at dusk --seed 42")
    first = tiny_backend.generate(job)
    second = tiny_backend.generate(job)
    assert len(first) == 4
    assert [image.tobytes() for image in first] == [image.tobytes() for image in second]


def test_the_four_images_differ(tiny_backend: DiffusersBackend) -> None:
    images = tiny_backend.generate(plan(tiny_backend, "a lighthouse --seed 1"))
    for i in range(4):
        for j in range(i + 1, 4):
            assert mean_abs_diff(images[i], images[j]) > 0.5


def test_image_i_is_made_from_seed_plus_i(tiny_backend: DiffusersBackend) -> None:
    """Image 2 of a job with seed 100 is exactly the image a job with seed 102 starts with,
    so any image of a grid can be reproduced alone with ``--seed``."""
    job = plan(tiny_backend, "a lighthouse --seed 100")
    grid = tiny_backend.generate(job)
    alone = tiny_backend.generate(replace(job, seed=102, num_images=1))
    assert alone[0].tobytes() == grid[2].tobytes()


def test_a_different_seed_gives_different_images(tiny_backend: DiffusersBackend) -> None:
    a = tiny_backend.generate(plan(tiny_backend, "a lighthouse --seed 5"))
    b = tiny_backend.generate(plan(tiny_backend, "a lighthouse --seed 500"))
    assert mean_abs_diff(a[0], b[0]) > 0.5


@pytest.mark.parametrize(
    ("plain", "changed"),
    [
        ("a red car --seed 3", "a red car --seed 3 --no blue"),
        ("a red car --seed 3", "a red car --seed 3 --s 1000"),
        ("a red car --seed 3", "red:: car --seed 3"),
        ("a red car --seed 3", "a red car --seed 3 --ar 16:9"),
    ],
    ids=["negative prompt", "stylize", "multi-prompt", "aspect"],
)
def test_parameters_reach_the_pipeline(
    tiny_backend: DiffusersBackend, plain: str, changed: str
) -> None:
    a = tiny_backend.generate(plan(tiny_backend, plain))[0]
    b = tiny_backend.generate(plan(tiny_backend, changed))[0]
    assert a.size != b.size or mean_abs_diff(a, b) > 0.05


def test_aspect_ratio_sets_the_image_size(tiny_backend: DiffusersBackend) -> None:
    images = tiny_backend.generate(plan(tiny_backend, "a red car --ar 16:9 --seed 3"))
    assert {image.size for image in images} == {(88, 48)}


def _spread(images: list) -> float:
    """Mean pairwise difference between the four images of a grid."""
    pairs = [(a, b) for i, a in enumerate(images) for b in images[i + 1 :]]
    return sum(mean_abs_diff(a, b) for a, b in pairs) / len(pairs)


def test_chaos_moves_images_further_as_it_grows(tiny_backend: DiffusersBackend) -> None:
    calm = tiny_backend.generate(plan(tiny_backend, "a red car --seed 9"))
    some = tiny_backend.generate(plan(tiny_backend, "a red car --seed 9 --chaos 30"))
    wild = tiny_backend.generate(plan(tiny_backend, "a red car --seed 9 --chaos 100"))
    moved_some = np.mean([mean_abs_diff(a, b) for a, b in zip(calm, some, strict=True)])
    moved_wild = np.mean([mean_abs_diff(a, b) for a, b in zip(calm, wild, strict=True)])
    assert 0 < moved_some < moved_wild
    assert _spread(wild) > _spread(calm)


def test_tile_uses_circular_padding_for_that_job_only(tiny_backend: DiffusersBackend) -> None:
    convolutions = _convolutions(tiny_backend)
    plain_job = plan(tiny_backend, "a brick wall texture --seed 4")
    before = tiny_backend.generate(plain_job)
    modes_during: list[set[str]] = []

    def record(event: StepEvent) -> None:
        modes_during.append({conv.padding_mode for conv in convolutions})

    tiled = tiny_backend.generate(
        plan(tiny_backend, "a brick wall texture --seed 4 --tile"), on_step=record
    )
    assert modes_during
    assert all(modes == {"circular"} for modes in modes_during)
    assert {conv.padding_mode for conv in convolutions} == {"zeros"}
    assert mean_abs_diff(before[0], tiled[0]) > 0.05
    after = tiny_backend.generate(plain_job)
    assert [i.tobytes() for i in after] == [i.tobytes() for i in before]


def test_progress_events_arrive_in_order_with_previews(tiny_backend: DiffusersBackend) -> None:
    events: list[StepEvent] = []
    tiny_backend.generate(
        plan(tiny_backend, "a red car --seed 1"), on_step=events.append, preview_every=2
    )
    assert [event.step for event in events] == [1, 2, 3, 4]
    assert {event.total for event in events} == {4}
    previews = [event.preview for event in events]
    assert previews[0] is None
    assert previews[2] is None
    assert previews[1] is not None
    assert previews[3] is not None
    # latents are half the tiny model's pixel size; four of them in a 2×2 grid
    assert previews[1].size == (64, 64)


def test_stop_ends_denoising_early_and_returns_an_unfinished_image(
    tiny_backend: DiffusersBackend,
) -> None:
    full_job = plan(tiny_backend, "a red car --seed 8 --steps 8")
    stopped_job = plan(tiny_backend, "a red car --seed 8 --steps 8 --stop 50")
    events: list[StepEvent] = []
    full = tiny_backend.generate(full_job)
    stopped = tiny_backend.generate(stopped_job, on_step=events.append)
    assert [event.step for event in events] == [1, 2, 3, 4]
    assert {event.total for event in events} == {4}
    assert len(stopped) == 4
    assert mean_abs_diff(full[0], stopped[0]) > 0.05


def test_cancel_stops_at_the_next_step_and_leaves_the_backend_clean(
    tiny_backend: DiffusersBackend,
) -> None:
    cancel = threading.Event()
    steps: list[int] = []

    def cancel_after_two(event: StepEvent) -> None:
        steps.append(event.step)
        if event.step == 2:
            cancel.set()

    with pytest.raises(JobCancelled):
        tiny_backend.generate(
            plan(tiny_backend, "a red car --seed 1 --steps 10 --tile"),
            on_step=cancel_after_two,
            cancel=cancel,
        )
    assert steps == [1, 2]
    assert {conv.padding_mode for conv in _convolutions(tiny_backend)} == {"zeros"}


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler_runs_deterministically(tiny_backend: DiffusersBackend, sampler: str) -> None:
    job = plan(tiny_backend, f"a red car --seed 2 --steps 3 --sampler {sampler}")
    first = tiny_backend.generate(job)
    second = tiny_backend.generate(job)
    assert len(first) == 4
    assert first[0].tobytes() == second[0].tobytes()


def _saved_first_image(tmp_path: Path, backend: DiffusersBackend, prompt: str) -> tuple:
    job = plan(backend, prompt)
    images = backend.generate(job)
    path = tmp_path / "parent-1.png"
    images[0].save(path)
    return job, images, path


def test_variation_keeps_the_size_and_strength_sets_how_far_it_goes(
    tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    parent, images, path = _saved_first_image(
        tmp_path, tiny_backend, "a red car --ar 3:2 --seed 6 --steps 20"
    )

    def vary(strength: float) -> list:
        job = plan_variation(parent, image_path=str(path), strength=strength)
        # the same noise for every strength, so only the strength differs
        return tiny_backend.generate(replace(job, seed=1))

    # The random tiny VAE does not reproduce its input, so "the starting image" is what
    # a barely-noised variation gives back; a random model cannot be judged against pixels.
    start = vary(0.02)
    subtle, strong = vary(FAST.subtle_strength), vary(FAST.strong_strength)
    assert len(subtle) == 4
    assert {image.size for image in subtle + strong} == {images[0].size}
    subtle_distance = np.mean([mean_abs_diff(a, b) for a, b in zip(start, subtle, strict=True)])
    strong_distance = np.mean([mean_abs_diff(a, b) for a, b in zip(start, strong, strict=True)])
    assert 0 < subtle_distance < strong_distance


def test_upscale_doubles_the_size_of_one_image(
    tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    parent, images, path = _saved_first_image(tmp_path, tiny_backend, "a red car --ar 3:2 --seed 6")
    job = plan_upscale(parent, index=0, image_path=str(path), defaults=FAST)
    upscaled = tiny_backend.generate(job)
    assert len(upscaled) == 1
    assert upscaled[0].size == (images[0].width * 2, images[0].height * 2)
    assert upscaled[0].tobytes() == tiny_backend.generate(job)[0].tobytes()


def test_sdxl_pipelines_run_through_the_same_engine(tiny_sdxl_backend: DiffusersBackend) -> None:
    assert tiny_sdxl_backend.is_sdxl
    job = plan(tiny_sdxl_backend, "a red:: car::2 --seed 5 --chaos 40 --no blue --ar 2:1")
    images = tiny_sdxl_backend.generate(job)
    assert len(images) == 4
    assert {image.size for image in images} == {(88, 48)}
    assert images[1].tobytes() == tiny_sdxl_backend.generate(job)[1].tobytes()


@pytest.mark.parametrize("sampler", ["euler_a", "dpm++2m_karras"])
def test_a_batch_of_jobs_makes_each_jobs_own_pixels(
    tiny_backend: DiffusersBackend, sampler: str
) -> None:
    """Prompts, negatives, chaos, seeds and guidance scales (--s) are per row: company
    does not change a job."""
    jobs = [
        plan(tiny_backend, f"a red car --seed 1 --sampler {sampler}"),
        plan(tiny_backend, f"a blue boat --seed 9 --chaos 40 --no fog --sampler {sampler}"),
        plan(tiny_backend, f"red:: car::2 --seed 99 --s 750 --sampler {sampler}"),
        plan(tiny_backend, f"a red car --seed 1 --s 0 --sampler {sampler}"),
    ]
    batched = tiny_backend.generate_batch(jobs)
    assert [len(images) for images in batched] == [4, 4, 4, 4]
    assert mean_abs_diff(batched[0][0], batched[3][0]) > 0.05  # --s 0 guided differently
    for job, images in zip(jobs, batched, strict=True):
        alone = tiny_backend.generate(job)
        assert [i.tobytes() for i in images] == [i.tobytes() for i in alone]


def test_a_batch_of_variations_keeps_each_start_image(
    tiny_backend: DiffusersBackend, tmp_path: Path
) -> None:
    parents = [plan(tiny_backend, f"a red car --seed {seed}") for seed in (1, 2)]
    jobs = []
    for number, parent in enumerate(parents):
        path = tmp_path / f"start-{number}.png"
        tiny_backend.generate(parent)[0].save(path)
        jobs.append(plan_variation(parent, image_path=str(path), strength=FAST.strong_strength))
    jobs[1] = replace(jobs[1], seed=jobs[0].seed + 100)
    batched = tiny_backend.generate_batch(jobs)
    for job, images in zip(jobs, batched, strict=True):
        assert [i.tobytes() for i in images] == [i.tobytes() for i in tiny_backend.generate(job)]


def test_jobs_that_cannot_share_a_call_are_refused(tiny_backend: DiffusersBackend) -> None:
    with pytest.raises(ValueError, match="batch key"):
        tiny_backend.generate_batch(
            [plan(tiny_backend, "a car"), plan(tiny_backend, "a car --steps 7")]
        )


def test_progress_of_a_batch_is_reported_per_job(tiny_backend: DiffusersBackend) -> None:
    seen: list[tuple[int, int, tuple[int, int] | None]] = []
    tiny_backend.generate_batch(
        [plan(tiny_backend, "a car --seed 1"), replace(plan(tiny_backend, "a car"), num_images=1)],
        on_step=lambda index, event: seen.append(
            (index, event.step, event.preview.size if event.preview else None)
        ),
        preview_every=4,
    )
    # each job's preview shows its own images: four in a 2×2 grid, or one
    assert seen[-2:] == [(0, 4, (64, 64)), (1, 4, (32, 32))]
    assert [step for index, step, _ in seen if index == 1] == [1, 2, 3, 4]


def test_an_sdxl_batch_with_different_stylize_matches_solo_runs(
    tiny_sdxl_backend: DiffusersBackend,
) -> None:
    jobs = [plan(tiny_sdxl_backend, "a fox --seed 5"), plan(tiny_sdxl_backend, "a fox --s 900")]
    for job, images in zip(jobs, tiny_sdxl_backend.generate_batch(jobs), strict=True):
        alone = tiny_sdxl_backend.generate(job)
        assert [i.tobytes() for i in images] == [i.tobytes() for i in alone]
