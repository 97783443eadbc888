"""Image prompts and /blend through an IP-Adapter (a tiny random one, loaded through the code
that loads a published adapter): what a member sees is that the images steer the picture,
that ``--iw`` weights them, and that jobs without images are untouched by the adapter."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from db.jobs import JobKind
from inference.backend import DiffusersBackend
from inference.engine import public_record, render
from inference.image_prompting import ImagePromptError, adapter_scale
from inference.jobs import GenerationJob, ImagePrompt, batch_key
from inference.models import ModelRef, ip_adapter_ref
from inference.params import PromptPart, parse
from tests.helpers.inference import mean_abs_diff, plan
from tests.helpers.pngmeta import parse_parameters, read_atelier, read_parameters


def image_prompt(folder: Path, name: str, colour: tuple[int, int, int]) -> ImagePrompt:
    """A checked copy as the studio stores one: a PNG in the inputs folder, by SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    Image.new("RGB", (48, 40), colour).save(path)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    return ImagePrompt(str(path), sha256, f"https://cdn.discordapp.com/attachments/1/2/{name}.png")


def with_images(job: GenerationJob, *images: ImagePrompt, iw: float = 1.0) -> GenerationJob:
    return replace(job, image_prompts=images, request=replace(job.request, image_weight=iw))


def same(a: list[Image.Image], b: list[Image.Image]) -> bool:
    return [image.tobytes() for image in a] == [image.tobytes() for image in b]


@pytest.fixture
def red(tmp_path: Path) -> ImagePrompt:
    return image_prompt(tmp_path / "inputs", "red", (220, 30, 20))


@pytest.fixture
def blue(tmp_path: Path) -> ImagePrompt:
    return image_prompt(tmp_path / "inputs", "blue", (20, 40, 230))


def test_an_image_prompt_changes_the_picture_and_is_reproducible(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt
) -> None:
    job = plan(tiny_ip_backend, "a fox --seed 3")
    text_only = tiny_ip_backend.generate(job)
    prompted = tiny_ip_backend.generate(with_images(job, red))
    assert mean_abs_diff(prompted[0], text_only[0]) > 0.05
    assert same(tiny_ip_backend.generate(with_images(job, red)), prompted)


def test_iw_weights_the_image_and_iw_0_is_the_text_alone(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt
) -> None:
    job = plan(tiny_ip_backend, "a fox --seed 4")
    text_only = tiny_ip_backend.generate(job)
    weak = tiny_ip_backend.generate(with_images(job, red, iw=0.5))
    strong = tiny_ip_backend.generate(with_images(job, red, iw=3))
    assert mean_abs_diff(strong[0], text_only[0]) > mean_abs_diff(weak[0], text_only[0]) > 0
    assert same(tiny_ip_backend.generate(with_images(job, red, iw=0)), text_only)
    assert adapter_scale(1) == 0.5


def test_jobs_without_images_make_the_same_pixels_as_without_an_adapter(
    tiny_ip_backend: DiffusersBackend, tiny_backend: DiffusersBackend, red: ImagePrompt
) -> None:
    """Before and after the adapter is loaded and used, a text job's pixels are those of
    the same model loaded without any adapter."""
    job = plan(tiny_ip_backend, "a lighthouse --seed 5 --chaos 20")
    without = tiny_backend.generate(job)
    assert same(tiny_ip_backend.generate(job), without)
    tiny_ip_backend.generate(with_images(job, red))
    assert tiny_ip_backend.image_adapter.loaded
    assert same(tiny_ip_backend.generate(job), without)


def test_jobs_with_different_images_batched_together_each_make_their_own_pixels(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt, blue: ImagePrompt
) -> None:
    jobs = [
        with_images(plan(tiny_ip_backend, "a fox --seed 6"), red),
        with_images(plan(tiny_ip_backend, "a cat --seed 6 --s 500"), blue),
    ]
    assert batch_key(jobs[0]) == batch_key(jobs[1])
    batched = tiny_ip_backend.generate_batch(jobs)
    assert mean_abs_diff(batched[0][0], batched[1][0]) > 0.05
    for job, images in zip(jobs, batched, strict=True):
        assert same(images, tiny_ip_backend.generate(job))


def test_batches_keep_apart_jobs_of_other_image_counts_or_weights(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt, blue: ImagePrompt
) -> None:
    job = plan(tiny_ip_backend, "a fox")
    keys = {
        batch_key(job),
        batch_key(with_images(job, red)),
        batch_key(with_images(job, red, blue)),
        batch_key(with_images(job, red, iw=2)),
    }
    assert len(keys) == 4


def test_a_blend_conditions_on_all_its_images_without_text(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt, blue: ImagePrompt
) -> None:
    """A /blend has no text: its request's prompt is empty (one empty part, as the parser
    makes it for a prompt of images only)."""
    job = plan(tiny_ip_backend, "anything --seed 8")
    blend = replace(job, request=replace(job.request, prompt="", parts=(PromptPart("", 1.0),)))
    both = tiny_ip_backend.generate(with_images(blend, red, blue))
    assert len(both) == 4
    for single in (red, blue):
        one = tiny_ip_backend.generate(with_images(blend, single))
        assert mean_abs_diff(both[0], one[0]) > 0.05
    assert same(tiny_ip_backend.generate(with_images(blend, red, blue)), both)


def test_the_png_records_the_images_by_hash_and_source_and_the_weight_never_a_path(
    tiny_ip_backend: DiffusersBackend, red: ImagePrompt, blue: ImagePrompt, tmp_path: Path
) -> None:
    job = with_images(plan(tiny_ip_backend, "a fox --seed 9"), red, blue, iw=2)
    folder = tmp_path / "out"
    saved = render(
        tiny_ip_backend, job, [folder / f"{i}.png" for i in range(4)], folder / "grid.png"
    )
    for path in [image.path for image in saved] + [folder / "grid.png"]:
        record = read_atelier(path)
        assert record is not None
        assert record["job"]["image_prompts"] == [
            {"sha256": red.sha256, "source": red.source},
            {"sha256": blue.sha256, "source": blue.source},
        ]
        assert record["job"]["request"]["image_weight"] == 2
        assert str(tmp_path) not in json.dumps(record)
        info = parse_parameters(read_parameters(path) or "")
        assert (info.extra["Image prompts"], info.extra["Image weight"]) == ("2", "2")


def test_image_prompts_without_an_adapter_are_refused_with_what_to_set(
    tiny_backend: DiffusersBackend, red: ImagePrompt
) -> None:
    job = with_images(plan(tiny_backend, "a fox"), red)
    with pytest.raises(ImagePromptError, match="ATELIER_IP_ADAPTER"):
        tiny_backend.generate(job)


def test_an_adapter_of_another_family_is_refused_and_text_jobs_still_run(
    tiny_model_dir: Path, tiny_sdxl_ip_adapter: Path, red: ImagePrompt
) -> None:
    backend = DiffusersBackend.load(
        ModelRef("tiny", str(tiny_model_dir)),
        "cpu",
        ip_adapter=ip_adapter_ref(str(tiny_sdxl_ip_adapter)),
    )
    job = plan(backend, "a fox --seed 2")
    with pytest.raises(ImagePromptError, match=r"made for .* models .* tiny is a"):
        backend.generate(with_images(job, red))
    assert len(backend.generate(job)) == 4


def test_a_missing_adapter_file_is_named(tiny_model_dir: Path, red: ImagePrompt) -> None:
    backend = DiffusersBackend.load(
        ModelRef("tiny", str(tiny_model_dir)),
        "cpu",
        ip_adapter=ip_adapter_ref("/nowhere/ip-adapter.safetensors"),
    )
    with pytest.raises(ImagePromptError, match=r"/nowhere/ip-adapter\.safetensors"):
        backend.generate(with_images(plan(backend, "a fox"), red))


def test_sdxl_takes_image_prompts_from_an_sdxl_adapter(
    tiny_sdxl_dir: Path, tiny_sdxl_ip_adapter: Path, red: ImagePrompt
) -> None:
    backend = DiffusersBackend.load(
        ModelRef("tiny-xl", str(tiny_sdxl_dir)),
        "cpu",
        ip_adapter=ip_adapter_ref(str(tiny_sdxl_ip_adapter)),
    )
    job = plan(backend, "a fox --seed 3")
    text_only = backend.generate(job)
    before = backend.weights_bytes()
    assert mean_abs_diff(backend.generate(with_images(job, red))[0], text_only[0]) > 0.05
    assert backend.weights_bytes() > before  # the adapter counts in the VRAM budget
    assert same(backend.generate(job), text_only)


def test_adapters_are_written_as_a_file_or_a_hub_path() -> None:
    sd15 = ip_adapter_ref("h94/IP-Adapter/models/ip-adapter_sd15.safetensors")
    assert (sd15.repo, sd15.file) == ("h94/IP-Adapter", "models/ip-adapter_sd15.safetensors")
    assert sd15.encoder_source == "h94/IP-Adapter/models/image_encoder"
    sdxl = ip_adapter_ref(
        "h94/IP-Adapter/sdxl_models/ip-adapter_sdxl_vit-h.safetensors",
        "h94/IP-Adapter/models/image_encoder",
    )
    assert (sdxl.encoder_repo, sdxl.encoder_path) == ("h94/IP-Adapter", "models/image_encoder")
    local = ip_adapter_ref("./adapters/ip-adapter_sd15.safetensors")
    assert (local.repo, local.encoder_repo) == (None, None)
    assert local.encoder_path == str(Path("adapters/image_encoder"))
    with pytest.raises(ValueError, match=r"not an IP-Adapter \.safetensors file"):
        ip_adapter_ref("h94/IP-Adapter/models/ip-adapter_sd15.bin")


def test_the_png_never_carries_a_discord_links_signature(red: ImagePrompt) -> None:
    """Discord signs attachment links for a day; the PNG keeps which attachment it was and
    drops the signature (anyone holding the file could fetch the member's upload with it)."""
    signed = f"{red.source}?ex=6650a1b2&is=664f5032&hm={'ab' * 32}&"
    request = parse(f"{signed} a fox")[0]
    job = GenerationJob(
        kind=JobKind.IMAGINE,
        request=request,
        model="tiny:1",
        seed=1,
        width=64,
        height=64,
        steps=2,
        sampler="euler",
        image_prompts=(replace(red, source=signed),),
    )
    record = public_record(job)
    assert "hm=" not in json.dumps(record)
    assert record["request"]["image_urls"] == [red.source]  # type: ignore[index]
    assert record["image_prompts"] == [{"sha256": red.sha256, "source": red.source}]
