"""``atelier imagine "https://… a fox --iw 2"``: image prompts from the command line, fetched
and checked as in Discord, refused with the same words (one line, exit 2, nothing made)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.local_imagine import imagine, input_lines
from bot.settings import load_settings
from db.database import Database
from db.jobs import get_job
from inference.jobs import GenerationJob, ImagePrompt
from tests.helpers.https_server import HttpsServer, Reply, https_server
from tests.helpers.pool import job

FAST = "--steps 2"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 16), (200, 60, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def workdir(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(clean_env / "data"))
    return clean_env


@pytest.fixture
def server() -> Iterator[HttpsServer]:
    with https_server({"/fox.png": Reply(_png())}) as running:
        yield running


def _jobs(data_dir: Path) -> list[GenerationJob]:
    async def read() -> list[GenerationJob]:
        async with await Database.open(data_dir / "atelier.db") as db:
            jobs = []
            for row in await db.fetchall("SELECT id FROM jobs ORDER BY id"):
                record = await get_job(db, row["id"])
                assert record is not None
                jobs.append(GenerationJob.from_params(record.params))
            return jobs

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("prompt", "adapter", "named"),
    [
        pytest.param(
            "https://cdn.discordapp.com/fox.png a fox",
            False,
            "ATELIER_IP_ADAPTER",
            id="no-adapter",
        ),
        pytest.param(
            "http://cdn.discordapp.com/fox.png a fox",
            True,
            "is not an https:// link; only https is fetched",
            id="scheme",
        ),
        pytest.param(
            "https://example.com/fox.png a fox",
            True,
            "is not on an allowed host",
            id="host",
        ),
        pytest.param("a fox --iw 2", True, "--iw weighs image prompts", id="iw-without-images"),
        pytest.param(
            "https://cdn.discordapp.com/fox.png a fox --iw 4", True, "--iw 4: must be", id="iw"
        ),
    ],
)
def test_a_refused_image_prompt_exits_2_naming_the_problem_and_makes_nothing(
    workdir: Path,
    tiny_model_dir: Path,
    tiny_ip_adapter: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    adapter: bool,
    named: str,
) -> None:
    if adapter:
        monkeypatch.setenv("ATELIER_IP_ADAPTER", str(tiny_ip_adapter))
    argv = ["imagine", f"{prompt} {FAST}", "--model", str(tiny_model_dir), "--out", "grid.png"]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2
    assert err.startswith("atelier: ")
    assert named in err
    assert err.count("\n") == 1
    assert out == ""
    assert not (workdir / "grid.png").exists()
    assert _jobs(workdir / "data") == []


def test_an_image_prompt_from_the_command_line_makes_a_grid_conditioned_on_it(
    workdir: Path, tiny_model_dir: Path, tiny_ip_adapter: Path, server: HttpsServer
) -> None:
    settings = load_settings(
        model=str(tiny_model_dir), devices="cpu", ip_adapter=str(tiny_ip_adapter)
    )
    url = server.url("/fox.png")
    (made,) = asyncio.run(
        imagine(
            f"{url} a fox --iw 2 {FAST}",
            settings=settings,
            model_override=None,
            out=workdir / "grid.png",
            device="cpu",
            intake=server.intake(),
        )
    )
    assert made.run.grid_path.is_file()
    assert len(made.result.images) == 4
    (job,) = _jobs(workdir / "data")
    assert job.request.image_weight == 2.0
    assert [image.source for image in job.image_prompts] == [url]
    assert Path(job.image_prompts[0].path).is_file()


def test_the_lines_under_a_grid_name_one_image_without_words_an_image_prompt() -> None:
    planned = job("x")
    image = ImagePrompt(path="/data/inputs/1.png", sha256="1" * 64, source="attachment:a.png")
    alone = replace(planned, request=replace(planned.request, prompt=""), image_prompts=(image,))
    assert input_lines(alone)[0] == "1 image prompt (--iw 1):"
    blend = replace(alone, image_prompts=(image, image))
    assert input_lines(blend)[0] == "/blend of 2 images:"
