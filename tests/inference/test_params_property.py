"""Whatever a user types, ``parse`` returns valid requests or a ParamError, nothing else."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from inference.params import SAMPLERS, ImagineRequest, ParamError, ParseLimits, parse

LIMITS = ParseLimits()
EM, EN = "\u2014", "\u2013"  # phones turn -- into these

FRAGMENTS = [
    "--ar", "--aspect", "--seed", "--chaos", "--c", "--stylize", "--s", "--quality", "--q",
    "--stop", "--tile", "--repeat", "--r", "--model", "--steps", "--sampler", "--no", "--x",
    EM + "ar", EM + "s", EN + "no", EM, EN, "--", "-", "::", "::2", "::-0.5", "::.5", "::-1", ":",
    "{", "}", ",", "\\{", "\\}", "\\,", "\\", "16:9", "1:4", "4:1", "0:1", "1.39:1", "5",
    "0", "100", "1000", "4294967295", "4294967296", ".25", "0.5", "2", "-1", "1e3",
    "euler", "Euler a", "DPM++ 2M Karras", "cat", "red", "blue sky", "\n", "\t", "ß", "\uff15",
]  # fmt: skip


def flag_heavy_text() -> st.SearchStrategy[str]:
    """Strings built from prompt-syntax fragments, sometimes glued, sometimes spaced."""
    piece = st.sampled_from(FRAGMENTS) | st.text(max_size=4)
    return st.lists(st.tuples(piece, st.sampled_from(["", " ", "  "])), max_size=25).map(
        lambda pairs: "".join(fragment + gap for fragment, gap in pairs)
    )


def assert_valid(request: ImagineRequest) -> None:
    assert request.prompt.strip()
    assert request.parts
    assert all(part.text for part in request.parts)
    assert math.isclose(math.fsum(p.weight for p in request.parts), 1.0, abs_tol=1e-9)
    width, height = request.aspect
    assert 1 <= width <= 4 * height
    assert 1 <= height <= 4 * width
    assert request.seed is None or 0 <= request.seed < 2**32
    assert 0 <= request.chaos <= 100
    assert 0 <= request.stylize <= 1000
    assert request.quality in (0.25, 0.5, 1.0, 2.0)
    assert 10 <= request.stop <= 100
    assert request.steps is None or 1 <= request.steps <= LIMITS.max_steps
    assert request.sampler is None or request.sampler in SAMPLERS
    assert request.model is None or (request.model and not any(c.isspace() for c in request.model))
    assert all(item.strip() for item in request.negative_prompt.split(", ")) or (
        request.negative_prompt == ""
    )


@settings(deadline=None)
@given(st.text() | flag_heavy_text())
def test_parse_returns_valid_requests_or_param_error(text: str) -> None:
    try:
        requests = parse(text, LIMITS)
    except ParamError:
        return
    assert 1 <= len(requests) <= LIMITS.max_jobs
    for request in requests:
        assert_valid(request)
