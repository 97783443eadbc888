"""The command line's progress bar: redrawn in place on a terminal, one line in a log."""

from __future__ import annotations

import io

import pytest

from bot.progress import ProgressBar


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pipe_gets_only_the_final_line_once_on_finish() -> None:
    stream = io.StringIO()
    bar = ProgressBar("imagine", stream=stream, width=10)
    for step in range(1, 5):
        bar.update(step, 4)
    assert stream.getvalue() == ""  # nothing while running: no carriage returns in logs
    bar.finish()
    assert stream.getvalue() == "imagine [██████████] 100% step 4/4\n"


def test_pipe_shows_where_an_interrupted_run_stopped() -> None:
    stream = io.StringIO()
    bar = ProgressBar("job 2/3", stream=stream, width=4)
    bar.update(1, 4)
    bar.finish()
    assert stream.getvalue() == "job 2/3 [█░░░]  25% step 1/4\n"


def test_finish_without_any_step_writes_nothing() -> None:
    for stream in (io.StringIO(), FakeTerminal()):
        ProgressBar("imagine", stream=stream).finish()
        assert stream.getvalue() == ""


def test_terminal_is_redrawn_in_place_with_percentage_and_step() -> None:
    stream = FakeTerminal()
    bar = ProgressBar("imagine", stream=stream, width=8)
    bar.update(1, 4)
    assert stream.getvalue() == "\rimagine [██░░░░░░]  25% step 1/4"
    bar.update(2, 4)
    bar.update(4, 4)
    bar.finish()
    frames = stream.getvalue().split("\r")
    assert frames == [
        "",
        "imagine [██░░░░░░]  25% step 1/4",
        "imagine [████░░░░]  50% step 2/4",
        "imagine [████████] 100% step 4/4",
        "imagine [████████] 100% step 4/4\n",  # the finished line stays on screen
    ]


def test_zero_total_does_not_crash() -> None:
    stream = FakeTerminal()
    bar = ProgressBar("imagine", stream=stream, width=4)
    bar.update(0, 0)
    assert stream.getvalue() == "\rimagine [░░░░]   0% step 0/0"


def test_default_stream_is_the_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar("imagine")
    bar.update(1, 1)
    bar.finish()
    assert "step 1/1" in capsys.readouterr().err
