"""``python -m bench.web`` runs end to end on a tiny database (a smoke test: no figure is
judged here; bench/README.md records them)."""

from __future__ import annotations

import json

import pytest

from bench.web import main


def test_bench_web_measures_every_kind_of_page(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--scale", "0.01", "--rounds", "2", "--load-requests", "30", "--concurrency", "4"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"pages_p99_ms", "rps", "loop_lag_p99_ms"} <= summary.keys()
    kinds = set(summary["pages"])
    assert {"home", "job", "campaign", "models", "board trending", "contest voting"} <= kinds
