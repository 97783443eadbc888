"""LoRAs on the tiny model, in both formats members download: weights read once and kept,
exactly the batch's adapters switched on, and nothing left behind for the next batch."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from inference.backend import DiffusersBackend, diffusers_factory
from inference.jobs import GenerationJob, LoraUse, batch_key
from inference.loras import LoadedLoras, LoraLoadError, adapter_name
from inference.models import ModelRef
from inference.pool.worker import ModelCache
from tests.helpers.hub_cache import FakeHubCache
from tests.helpers.inference import mean_abs_diff, plan


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> DiffusersBackend:
    """A backend of its own: adapters loaded here must not reach the shared one."""
    return DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")


def _lora(files: dict[str, Path], which: str, weight: float) -> LoraUse:
    return LoraUse(key=f"{which}:1", source=str(files[which]), weight_name=None, weight=weight)


def _with(job: GenerationJob, *loras: LoraUse) -> GenerationJob:
    return replace(job, loras=tuple(loras))


def _bytes(images: Sequence[object]) -> list[bytes]:
    return [image.tobytes() for image in images]  # type: ignore[attr-defined]


@pytest.mark.parametrize("fmt", ["diffusers", "kohya"])
def test_weight_zero_gives_the_base_models_pixels_exactly(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path], fmt: str
) -> None:
    job = plan(backend, "a fox in snow --seed 7")
    base = backend.generate(job)
    at_zero = backend.generate(_with(job, _lora(tiny_lora_files, fmt, 0.0)))
    assert _bytes(at_zero) == _bytes(base)


@pytest.mark.parametrize("fmt", ["diffusers", "kohya"])
def test_weight_one_changes_the_pixels_and_minus_one_changes_them_differently(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path], fmt: str
) -> None:
    job = plan(backend, "a fox in snow --seed 7")
    base = backend.generate(job)
    plus = backend.generate(_with(job, _lora(tiny_lora_files, fmt, 1.0)))
    minus = backend.generate(_with(job, _lora(tiny_lora_files, fmt, -1.0)))
    assert mean_abs_diff(plus[0], base[0]) > 1
    assert mean_abs_diff(minus[0], base[0]) > 1
    assert mean_abs_diff(plus[0], minus[0]) > 1


def test_the_kohya_file_adapts_both_the_text_encoder_and_the_unet(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path]
) -> None:
    backend.generate(_with(plan(backend, "a fox --seed 1"), _lora(tiny_lora_files, "kohya", 1.0)))
    adapters = backend.pipeline.get_list_adapters()
    name = backend.loras.loaded[-1]
    assert name in adapters["unet"]
    assert name in adapters["text_encoder"]


def test_two_loras_combine(backend: DiffusersBackend, tiny_lora_files: dict[str, Path]) -> None:
    job = plan(backend, "a fox --seed 3")
    ink = _lora(tiny_lora_files, "diffusers", 1.0)
    pixel = _lora(tiny_lora_files, "kohya", 1.0)
    alone_ink = backend.generate(_with(job, ink))
    alone_pixel = backend.generate(_with(job, pixel))
    both = backend.generate(_with(job, ink, pixel))
    assert mean_abs_diff(both[0], alone_ink[0]) > 1
    assert mean_abs_diff(both[0], alone_pixel[0]) > 1


def test_a_plain_job_after_lora_jobs_on_the_same_pipeline_is_exactly_as_before(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path]
) -> None:
    plain = plan(backend, "a quiet harbour --seed 11")
    before = backend.generate(plain)
    lora_job = _with(plan(backend, "a fox --seed 2"), _lora(tiny_lora_files, "kohya", 0.9))
    first = backend.generate(lora_job)
    assert _bytes(backend.generate(plain)) == _bytes(before)
    # …and the LoRA job again gives its own pixels: switching is clean both ways.
    assert _bytes(backend.generate(lora_job)) == _bytes(first)


def test_jobs_with_other_loras_or_weights_never_share_a_batch(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path]
) -> None:
    plain = plan(backend, "a harbour --seed 1")
    half = _with(plain, _lora(tiny_lora_files, "kohya", 0.5))
    full = _with(plain, _lora(tiny_lora_files, "kohya", 1.0))
    other = _with(plain, _lora(tiny_lora_files, "diffusers", 0.5))
    keys = {batch_key(job) for job in (plain, half, full, other)}
    assert len(keys) == 4
    assert batch_key(half) == batch_key(replace(half, seed=99))
    with pytest.raises(ValueError, match="share a batch key"):
        backend.generate_batch([plain, half])


def test_a_lora_job_batched_with_its_own_kind_keeps_each_jobs_pixels(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path]
) -> None:
    lora = _lora(tiny_lora_files, "diffusers", 0.7)
    first = _with(plan(backend, "a red fox --seed 5"), lora)
    second = _with(plan(backend, "a blue owl --seed 9"), lora)
    together = backend.generate_batch([first, second])
    assert _bytes(together[0]) == _bytes(backend.generate(first))
    assert _bytes(together[1]) == _bytes(backend.generate(second))


def _count_loads(backend: DiffusersBackend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The adapter names ``backend`` reads weights for, in order: a reload shows twice."""
    loads: list[str] = []
    pipe = backend.pipeline
    original = pipe.load_lora_weights

    def counting(*args: object, adapter_name: str, **kwargs: object) -> object:
        loads.append(adapter_name)
        return original(*args, adapter_name=adapter_name, **kwargs)

    monkeypatch.setattr(pipe, "load_lora_weights", counting)
    return loads


def test_the_least_recently_used_lora_is_unloaded_first(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    backend.loras = LoadedLoras(backend.pipeline, max_loaded=2)
    loads = _count_loads(backend, monkeypatch)
    job = plan(backend, "a fox --seed 4")
    ink, pixel, glow = (_lora(tiny_lora_files, w, 1.0) for w in ("diffusers", "kohya", "other"))
    plain_bytes = backend.weights_bytes()
    first_ink = backend.generate(_with(job, ink))
    backend.generate(_with(job, pixel))
    assert backend.weights_bytes() > plain_bytes  # loaded LoRAs count in the VRAM budget
    backend.generate(_with(job, ink))  # ink is now the most recently used
    backend.generate(_with(job, glow))
    names = {lora.key: adapter_name(lora.key) for lora in (ink, pixel, glow)}
    assert backend.loras.loaded == [names["diffusers:1"], names["other:1"]]  # pixel went
    assert set(backend.pipeline.get_list_adapters()["unet"]) == set(backend.loras.loaded)
    assert _bytes(backend.generate(_with(job, ink))) == _bytes(first_ink)  # kept, not reloaded
    assert loads == [names["diffusers:1"], names["kohya:1"], names["other:1"]]
    assert _bytes(backend.generate(job)) == _bytes(
        DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu").generate(job)
    )


def test_a_lora_that_does_not_fit_the_vram_budget_unloads_the_least_recently_used_lora(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ink, pixel, glow = (_lora(tiny_lora_files, w, 1.0) for w in ("diffusers", "kohya", "other"))
    probe = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    base = probe.weights_bytes()
    job = plan(probe, "a fox --seed 4")
    probe.generate(_with(job, ink))
    per_lora = probe.weights_bytes() - base  # what one loaded tiny LoRA adds
    # Room for the model, one loaded LoRA and pixel's file, not for two LoRAs and that file.
    budget = base + per_lora + tiny_lora_files["kohya"].stat().st_size + per_lora // 2
    cache = ModelCache("cpu", diffusers_factory(), budget)
    backend, _ = cache.get(ModelRef("tiny", str(tiny_model_dir)))
    assert isinstance(backend, DiffusersBackend)
    loads = _count_loads(backend, monkeypatch)
    first_ink = backend.generate(_with(job, ink))
    backend.generate(_with(job, glow))
    backend.generate(_with(job, ink))  # glow is now the least recently used
    backend.generate(_with(job, pixel))
    names = {lora.key: adapter_name(lora.key) for lora in (ink, pixel, glow)}
    assert backend.loras.loaded == [names["diffusers:1"], names["kohya:1"]]  # glow went
    assert cache.names == ["tiny"]
    assert backend.weights_bytes() <= budget
    assert _bytes(backend.generate(_with(job, ink))) == _bytes(first_ink)  # kept, not reloaded
    assert loads == [names["diffusers:1"], names["other:1"], names["kohya:1"]]


def test_a_lora_unloads_other_models_when_its_own_pipeline_has_no_lora_to_spare(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path]
) -> None:
    base = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu").weights_bytes()
    pixel = _lora(tiny_lora_files, "kohya", 1.0)
    size = tiny_lora_files["kohya"].stat().st_size
    cache = ModelCache("cpu", diffusers_factory(), 2 * base + size - 1)
    cache.get(ModelRef("older", str(tiny_model_dir)))
    backend, _ = cache.get(ModelRef("newer", str(tiny_model_dir)))
    cache.get(ModelRef("older", str(tiny_model_dir)))  # the model in use is the LRU one now
    assert cache.names == ["newer", "older"]
    assert isinstance(backend, DiffusersBackend)
    backend.generate(_with(plan(backend, "a fox --seed 1"), pixel))
    assert cache.names == ["newer"]  # never the model whose LoRA is loading


def test_a_job_with_two_loras_keeps_both_even_past_the_vram_budget(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    ink, pixel = (_lora(tiny_lora_files, w, 1.0) for w in ("diffusers", "kohya"))
    probe = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    base = probe.weights_bytes()
    job = plan(probe, "a fox --seed 4")
    probe.generate(_with(job, ink))
    per_lora = probe.weights_bytes() - base
    # Room for the model and ink, one byte short of pixel's file beside them.
    budget = base + per_lora + tiny_lora_files["kohya"].stat().st_size - 1
    cache = ModelCache("cpu", diffusers_factory(), budget)
    backend, _ = cache.get(ModelRef("tiny", str(tiny_model_dir)))
    assert isinstance(backend, DiffusersBackend)

    both = backend.generate(_with(job, ink, pixel))

    assert backend.loras.loaded == [adapter_name(ink.key), adapter_name(pixel.key)]
    assert _bytes(both) == _bytes(probe.generate(_with(job, ink, pixel)))
    assert "loading it anyway" in caplog.text


def test_a_lora_that_cannot_be_read_fails_with_its_name(
    backend: DiffusersBackend, tmp_path: Path
) -> None:
    missing = LoraUse(
        key="gone:1", source=str(tmp_path / "gone.safetensors"), weight_name=None, weight=1.0
    )
    with pytest.raises(LoraLoadError, match="`gone:1` could not be loaded"):
        backend.generate(_with(plan(backend, "a fox --seed 1"), missing))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_lora_file_changed_since_registration_is_refused_at_load(
    tiny_model_dir: Path, tiny_lora_files: dict[str, Path], tmp_path: Path
) -> None:
    backend = DiffusersBackend.load(ModelRef("tiny", str(tiny_model_dir)), "cpu")
    file = tmp_path / "ink.safetensors"
    file.write_bytes(tiny_lora_files["diffusers"].read_bytes())
    ink = replace(_lora(tiny_lora_files, "diffusers", 1.0), source=str(file), sha256=_sha256(file))
    job = plan(backend, "a fox --seed 1")
    backend.generate(_with(job, ink))  # as registered: loads

    backend.loras = LoadedLoras(backend.pipeline)  # another worker, say, after a restart
    file.write_bytes(tiny_lora_files["other"].read_bytes())  # same size, other weights
    with pytest.raises(LoraLoadError) as refused:
        backend.generate(_with(job, ink))
    assert refused.value.message == (
        "the LoRA `diffusers:1` was not loaded: its file has changed since it was registered "
        "(its SHA-256 is not the one recorded); put the registered file back, or register the "
        "new one as a new version (one of ATELIER_LORAS becomes one at the next start)"
    )
    assert backend.loras.loaded == []


def test_a_hub_lora_is_loaded_from_the_hub_cache_when_its_hash_matches(
    backend: DiffusersBackend, tiny_lora_files: dict[str, Path], hub_cache: FakeHubCache
) -> None:
    file = tiny_lora_files["kohya"]
    hub_cache.put("org/loras", "styles/pixelart.safetensors", file)
    local = replace(_lora(tiny_lora_files, "kohya", 1.0), sha256=_sha256(file))
    hub = replace(local, key="hub:1", source="org/loras", weight_name="styles/pixelart.safetensors")
    job = plan(backend, "a fox --seed 1")
    assert _bytes(backend.generate(_with(job, hub))) == _bytes(backend.generate(_with(job, local)))
