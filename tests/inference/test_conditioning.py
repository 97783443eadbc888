"""Multi-prompt weights and --chaos act on the text embeddings."""

from __future__ import annotations

import torch

from inference import conditioning
from inference.backend import DiffusersBackend
from inference.params import parse


def _encode_text(backend: DiffusersBackend, text: str) -> torch.Tensor:
    embeds, _ = backend.pipeline.encode_prompt(text, backend.device, 1, False)
    return embeds[0]


def _condition(backend: DiffusersBackend, prompt: str, seeds: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return conditioning.encode(
            backend.pipeline, parse(prompt)[0], seeds, backend.device, is_sdxl=False
        ).prompt_embeds


def test_multi_prompt_blends_the_parts_embeddings_by_weight(tiny_backend: DiffusersBackend) -> None:
    with torch.no_grad():
        red, car = _encode_text(tiny_backend, "red"), _encode_text(tiny_backend, "car")
        blended = _condition(tiny_backend, "red::3 car --seed 1", [1])
    torch.testing.assert_close(blended[0], 0.75 * red + 0.25 * car)


def test_a_negative_weight_pushes_away_from_that_part(tiny_backend: DiffusersBackend) -> None:
    with torch.no_grad():
        still, fruit = _encode_text(tiny_backend, "still life"), _encode_text(tiny_backend, "fruit")
        blended = _condition(tiny_backend, "still life:: fruit::-0.5", [1])
    torch.testing.assert_close(blended[0], 2 * still - 1 * fruit)


def test_without_chaos_all_four_images_share_one_conditioning(
    tiny_backend: DiffusersBackend,
) -> None:
    rows = _condition(tiny_backend, "a red car", [1, 2, 3, 4])
    for row in rows[1:]:
        assert torch.equal(row, rows[0])


def test_chaos_spreads_the_conditionings_more_as_it_grows(tiny_backend: DiffusersBackend) -> None:
    def spread(chaos: int) -> float:
        rows = _condition(tiny_backend, f"a red car --chaos {chaos}", [7, 8, 9, 10])
        return float(torch.cdist(rows.flatten(1), rows.flatten(1)).mean())

    assert spread(0) == 0
    assert 0 < spread(10) < spread(50) < spread(100)


def test_chaos_is_reproducible_from_the_seed_and_spares_the_start_token(
    tiny_backend: DiffusersBackend,
) -> None:
    plain = _condition(tiny_backend, "a red car", [7])
    first = _condition(tiny_backend, "a red car --chaos 60", [7, 8])
    again = _condition(tiny_backend, "a red car --chaos 60", [7, 8])
    assert torch.equal(first, again)
    assert not torch.equal(first[0], first[1])
    assert torch.equal(first[:, 0], plain[:, 0].expand(2, -1))


def test_sdxl_blends_pooled_embeddings_too(tiny_sdxl_backend: DiffusersBackend) -> None:
    with torch.no_grad():
        result = conditioning.encode(
            tiny_sdxl_backend.pipeline,
            parse("red:: car --chaos 20")[0],
            [1, 2],
            tiny_sdxl_backend.device,
            is_sdxl=True,
        )
    kwargs = result.pipeline_kwargs()
    assert set(kwargs) == {
        "prompt_embeds",
        "negative_prompt_embeds",
        "pooled_prompt_embeds",
        "negative_pooled_prompt_embeds",
    }
    assert kwargs["pooled_prompt_embeds"].shape[0] == 2
    assert not torch.equal(kwargs["pooled_prompt_embeds"][0], kwargs["pooled_prompt_embeds"][1])
