"""The ``atelier`` command, run in-process through ``main`` (and once as the installed script)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from db.database import Database
from db.jobs import (
    LOCAL_OWNER_ID,
    ImageRecord,
    JobKind,
    JobRecord,
    JobStatus,
    get_job,
    list_images,
)
from inference.backend import DiffusersBackend
from inference.jobs import ImagePrompt
from inference.models import ModelRef, ip_adapter_ref
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.discord_bots import Bots, is_result
from tests.helpers.inference import plan

TOKEN = "MTIz.fake-token-value-xyz"
FAST = "--steps 2"  # for runs whose step count does not matter


@pytest.fixture
def workdir(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with the database inside it, at ``data/atelier.db``."""
    monkeypatch.setenv("ATELIER_DATA_DIR", str(clean_env / "data"))
    return clean_env


def _db_path(workdir: Path) -> Path:
    return workdir / "data" / "atelier.db"


def _recorded(db_path: Path) -> list[tuple[JobRecord, list[ImageRecord]]]:
    """Every job in the database at ``db_path`` with its images, oldest first."""

    async def read() -> list[tuple[JobRecord, list[ImageRecord]]]:
        async with await Database.open(db_path) as db:
            jobs = []
            for row in await db.fetchall("SELECT id FROM jobs ORDER BY id"):
                job = await get_job(db, row["id"])
                assert job is not None
                jobs.append((job, await list_images(db, job.id)))
            return jobs

    return asyncio.run(read())


def _imagine(model: Path | str, prompt: str, *extra: str) -> int:
    return main(["imagine", prompt, "--model", str(model), *extra])


def _pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.tobytes()


def _parameters(path: Path) -> str:
    with Image.open(path) as image:
        return str(image.text["parameters"])


# --- imagine ---------------------------------------------------------------------------------


def test_imagine_writes_grid_and_images_with_metadata_and_records_the_job(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "3")  # the operator's default reaches the engine
    rc = _imagine(tiny_model_dir, "a red car --seed 7 --ar 3:2", "--out", "out/grid.png")
    out, err = capsys.readouterr()
    assert rc == 0, err

    out_dir = workdir / "out"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "grid-1.png",
        "grid-2.png",
        "grid-3.png",
        "grid-4.png",
        "grid.png",
    ]
    lines = out.splitlines()
    assert lines[0] == f"{Path('out/grid.png')}: seeds 7, 8, 9, 10"
    for k, seed in enumerate([7, 8, 9, 10], start=1):
        assert f"{Path(f'out/grid-{k}.png')} (80×56, seed {seed})" in lines[k]

    # 3:2 at the tiny model's 64² pixels, sides rounded to multiples of 8.
    for k, seed in enumerate([7, 8, 9, 10], start=1):
        path = out_dir / f"grid-{k}.png"
        with Image.open(path) as image:
            assert image.size == (80, 56)
        parameters = _parameters(path)
        assert parameters.splitlines()[0] == "a red car"
        assert f"Seed: {seed}," in parameters
        assert "Steps: 3," in parameters
        assert "Size: 80x56" in parameters
        assert parameters.endswith("Model: tiny-sd")  # the folder, for this run only
    with Image.open(out_dir / "grid.png") as grid:
        assert grid.size == (160, 112)  # 2×2
    assert "Seed: 7," in _parameters(out_dir / "grid.png")

    [(job, images)] = _recorded(_db_path(workdir))
    assert job.kind is JobKind.IMAGINE
    assert job.status is JobStatus.DONE
    assert job.error is None
    assert job.prompt == "a red car"
    assert job.model == "tiny-sd"
    assert job.owner_id == 0
    assert job.gpu_seconds > 0
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.started_at <= job.finished_at
    assert job.device is not None
    assert (job.params["seed"], job.params["width"], job.params["height"]) == (7, 80, 56)
    assert job.params["steps"] == 3
    assert [(i.index, i.seed, i.width, i.height) for i in images] == [
        (0, 7, 80, 56),
        (1, 8, 80, 56),
        (2, 9, 80, 56),
        (3, 10, 80, 56),
    ]
    # Where each image was written, as an absolute path valid from any directory.
    assert [Path(i.path) for i in images] == [
        (out_dir / f"grid-{k}.png").resolve() for k in range(1, 5)
    ]


def test_same_seed_gives_the_same_pixels_and_another_seed_does_not(
    workdir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, seed in (("a", 5), ("b", 5), ("c", 6)):
        prompt = f"a red car --seed {seed} {FAST}"
        assert (
            _imagine(tiny_model_dir, prompt, "--out", f"{folder}/grid.png", "--device", "cpu") == 0
        )
        capsys.readouterr()

    for k in range(1, 5):
        assert _pixels(workdir / "a" / f"grid-{k}.png") == _pixels(workdir / "b" / f"grid-{k}.png")
    assert _pixels(workdir / "a" / "grid.png") == _pixels(workdir / "b" / "grid.png")
    assert _pixels(workdir / "a" / "grid-1.png") != _pixels(workdir / "c" / "grid-1.png")
    # Each image has its own seed: image 2 of --seed 5 is image 1 of --seed 6.
    assert _pixels(workdir / "a" / "grid-2.png") == _pixels(workdir / "c" / "grid-1.png")
    # The four images of one grid differ from each other.
    assert len({_pixels(workdir / "a" / f"grid-{k}.png") for k in range(1, 5)}) == 4


def test_permutations_write_one_grid_and_job_each(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The model comes from the settings this time (a named model as the default), and the
    # grid goes to the default --out, grid.png.
    monkeypatch.setenv("ATELIER_MODELS", json.dumps({"tiny": str(tiny_model_dir)}))
    monkeypatch.setenv("ATELIER_MODEL", "tiny")
    rc = main(["imagine", f"{{red, blue}} car --seed 1 {FAST}"])
    out, err = capsys.readouterr()
    assert rc == 0, err

    written = sorted(p.name for p in workdir.iterdir() if p.suffix == ".png")
    assert written == sorted(
        [f"grid_{n}.png" for n in (1, 2)]
        + [f"grid_{n}-{k}.png" for n in (1, 2) for k in (1, 2, 3, 4)]
    )
    # Which prompt made which grid.
    assert "grid_1.png: 'red car', seeds 1, 2, 3, 4" in out.splitlines()
    assert "grid_2.png: 'blue car', seeds 1, 2, 3, 4" in out.splitlines()
    assert _parameters(workdir / "grid_1-1.png").splitlines()[0] == "red car"
    assert _parameters(workdir / "grid_2-1.png").splitlines()[0] == "blue car"

    jobs = _recorded(_db_path(workdir))
    assert [(job.prompt, job.model, job.status) for job, _ in jobs] == [
        ("red car", "tiny:1", JobStatus.DONE),
        ("blue car", "tiny:1", JobStatus.DONE),
    ]
    assert [len(images) for _, images in jobs] == [4, 4]
    assert [Path(image.path).name for image in jobs[1][1]] == [
        f"grid_2-{k}.png" for k in (1, 2, 3, 4)
    ]


async def test_a_model_name_means_the_same_version_in_the_cli_and_in_discord(
    bots: Bots,
    fake: FakeDiscord,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``tiny:2``, added and released in Discord, is what ``--model tiny`` gives a member in
    Discord and the operator at the command line (who has no ``ATELIER_MODELS`` at all)."""
    bot = await bots.start()
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    source = str(bots.model_dir)
    added = await fake.slash(
        "models add", {"name": "tiny", "version": "2", "source": source, "family": "sd1"}, user=mod
    )
    await added.wait_original()
    released = await fake.slash(
        "models release", {"model": "tiny:2", "early_access_days": 0}, user=mod
    )
    await released.wait_original()
    imagined = await fake.slash("imagine", {"prompt": "a cat --model tiny"}, user=alice)
    await imagined.wait_original(is_result, timeout=30)

    monkeypatch.setenv("ATELIER_DATA_DIR", str(bots.data_dir))
    argv = ["imagine", f"a cat {FAST}", "--model", "tiny", "--out", "cli.png"]
    assert await asyncio.to_thread(main, argv) == 0, capsys.readouterr().err

    rows = await bot.db.fetchall("SELECT owner_id, model FROM jobs ORDER BY id")
    assert [(row["owner_id"], row["model"]) for row in rows] == [
        (alice.id, "tiny:2"),
        (LOCAL_OWNER_ID, "tiny:2"),
    ]


def test_a_model_folder_given_with_model_is_for_that_run_only(
    workdir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--model PATH`` runs the folder without entering it into the registry the bot
    shares with its members; only the configured models are entered, as at start-up."""
    assert _imagine(tiny_model_dir, f"a red car {FAST}") == 0, capsys.readouterr().err

    async def registered() -> list[str]:
        async with await Database.open(_db_path(workdir)) as db:
            return [row["name"] for row in await db.fetchall("SELECT name FROM models")]

    assert asyncio.run(registered()) == ["stable-diffusion-v1-5"]  # ATELIER_MODEL's default


def test_a_model_folder_named_like_a_registered_model_is_refused(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A job's model name must say which weights made it: a folder called ``tiny-sd`` while
    the registry's ``tiny-sd`` is another model would make PNGs that lie."""
    other = workdir / "elsewhere" / tiny_model_dir.name
    shutil.copytree(tiny_model_dir, other)
    monkeypatch.setenv("ATELIER_MODEL", str(tiny_model_dir))  # registered as tiny-sd
    rc = _imagine(other, f"a red car {FAST}")
    _, err = capsys.readouterr()
    assert rc == 2
    assert "a registered model is already called `tiny-sd`" in err
    assert "Traceback" not in err
    assert _recorded(_db_path(workdir)) == []
    assert _imagine(tiny_model_dir, f"a red car {FAST}") == 0  # the configured one, by path
    [(job, _)] = _recorded(_db_path(workdir))
    assert job.model == "tiny-sd:1"


#: Mistakes found before the database is opened: nothing at all is written.
BAD_COMMAND_LINE = [
    pytest.param("a car", ["--out", "grid.jpg"], {}, "--out", id="out-jpg"),
    pytest.param("a car", ["--out", "grid"], {}, "--out", id="out-no-suffix"),
    pytest.param("a car", [], {"ATELIER_DEVICES": "cuda:99"}, "ATELIER_DEVICES", id="no-such-gpu"),
    pytest.param(
        "a car",
        ["--device", "gpu"],
        {},
        "--device",
        id="cli-device",
    ),
    pytest.param(
        "a car",
        ["--device", "cpu"],
        {"ATELIER_DTYPE": "fp16"},
        "ATELIER_DTYPE",
        id="dtype-on-cpu",
    ),
    pytest.param(
        "a car", ["--device", "cuda:7"], {}, "--device names cuda:7", id="cli-no-such-gpu"
    ),
    # A configured model that cannot be loaded never enters the registry.
    pytest.param(
        "a car",
        [],
        {"ATELIER_MODELS": '{"gone": "./nowhere"}', "ATELIER_MODEL": "gone"},
        "model gone (ATELIER_MODELS['gone']): ./nowhere does not exist",
        id="configured-model-path",
    ),
    pytest.param(
        "a car",
        ["--out", "/proc/atelier/grid.png"],
        {},
        "--out /proc/atelier/grid.png: the folder /proc cannot be written to; choose a "
        "folder you can write to",
        id="out-unwritable",
    ),
]

#: Mistakes found by the studio and the model registry, which live in the database: it is
#: opened (created on a first run), but no job is recorded and no image written.
BAD_PROMPT_OR_MODEL = [
    pytest.param("a car --ar 0:1", [], {}, "--ar 0:1", id="ar-zero"),
    pytest.param("a car --ar 5:1", [], {}, "--ar 5:1", id="ar-too-wide"),
    pytest.param("a car --chaos 101", [], {}, "--chaos 101", id="chaos"),
    pytest.param("a car --bogus", [], {}, "--bogus", id="unknown-flag"),
    pytest.param("a car --seed -1", [], {}, "--seed", id="seed"),
    pytest.param("a car --steps 0", [], {}, "--steps", id="steps"),
    pytest.param("a car --repeat 5", [], {}, "--repeat", id="repeat"),
    pytest.param(
        "a car --repeat 2", [], {"ATELIER_MAX_REPEAT": "1"}, "--repeat", id="repeat-limit"
    ),
    pytest.param("{a, b, c} car --repeat 4", [], {}, "12 jobs", id="too-many-jobs"),
    pytest.param("a car --model nosuch", [], {}, "unknown model `nosuch`", id="prompt-model-name"),
    pytest.param("a car", ["--model", "nosuch"], {}, "nosuch", id="cli-model-name"),
    pytest.param("a car", ["--model", "./no/model"], {}, "no such file", id="cli-model-path"),
]


def _bad_input(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # A valid model and --out unless the case overrides them (argparse keeps the last one).
    model = [] if "ATELIER_MODEL" in env else ["--model", str(tiny_model_dir)]
    rc = main(["imagine", f"{prompt} {FAST}", *model, "--out", "out/grid.png", *argv])
    out, err = capsys.readouterr()
    assert rc == 2
    assert err.startswith("atelier: ")
    assert named in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(("prompt", "argv", "env", "named"), BAD_COMMAND_LINE)
def test_a_bad_command_line_exits_2_naming_the_problem_and_writes_nothing(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    _bad_input(workdir, tiny_model_dir, monkeypatch, capsys, prompt, argv, env, named)
    assert list(workdir.iterdir()) == []  # no images, no data/atelier.db


@pytest.mark.parametrize(("prompt", "argv", "env", "named"), BAD_PROMPT_OR_MODEL)
def test_a_bad_prompt_or_model_exits_2_naming_the_problem_and_makes_nothing(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    prompt: str,
    argv: list[str],
    env: dict[str, str],
    named: str,
) -> None:
    _bad_input(workdir, tiny_model_dir, monkeypatch, capsys, prompt, argv, env, named)
    assert [p.name for p in workdir.iterdir()] == ["data"]  # no images
    assert _recorded(_db_path(workdir)) == []


def test_model_that_cannot_load_exits_1_with_a_message_and_records_no_job(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "not-a-model").mkdir()
    rc = _imagine("./not-a-model", f"a car {FAST}")
    _, err = capsys.readouterr()
    assert rc == 1
    assert "Could not load model 'not-a-model'" in err
    assert "atelier make-tiny-model" in err  # says how to go on
    assert "Traceback" not in err
    assert not list(workdir.glob("*.png"))
    if _db_path(workdir).exists():
        assert _recorded(_db_path(workdir)) == []


@pytest.mark.parametrize(
    "argv",
    [[], ["imagine"], ["imagine", "a car", "--bogus"], ["frobnicate"], ["db"]],
    ids=["nothing", "no-prompt", "unknown-option", "unknown-command", "db-no-action"],
)
def test_command_line_mistakes_exit_2_with_usage(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: atelier" in capsys.readouterr().err
    assert list(workdir.iterdir()) == []


# --- settings problems and the token ----------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [["run"], ["models"], ["imagine", "a car"], ["db", "backup", "copy.db"]],
    ids=["run", "models", "imagine", "db-backup"],
)
def test_invalid_settings_exit_2_with_one_line_per_problem(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    monkeypatch.setenv("ATELIER_DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("ATELIER_DEVICES", "gpu")
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "0")
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2
    lines = err.splitlines()
    assert sorted(line.split("=")[0] for line in lines) == [
        "atelier: ATELIER_DEFAULT_STEPS",
        "atelier: ATELIER_DEVICES",
    ]
    assert "fake-token" not in out + err
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("token", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_run_without_token_explains_and_suggests_imagine(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
) -> None:
    if token is not None:
        monkeypatch.setenv("ATELIER_DISCORD_TOKEN", token)
    rc = main(["run"])
    out, err = capsys.readouterr()
    assert rc == 2
    assert err.startswith("atelier: ATELIER_DISCORD_TOKEN is not set")
    assert ".env" in err
    assert "atelier make-tiny-model ./tiny-model" in err
    assert "atelier imagine" in err
    assert out == ""


@pytest.mark.parametrize("source", ["environment", "dotenv"])
def test_run_never_prints_the_token(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    source: str,
) -> None:
    if source == "environment":
        monkeypatch.setenv("ATELIER_DISCORD_TOKEN", TOKEN)
    else:
        (workdir / ".env").write_text(f"ATELIER_DISCORD_TOKEN={TOKEN}\n", encoding="utf-8")
    monkeypatch.setenv("ATELIER_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("ATELIER_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("ATELIER_DEVICES", "cpu")
    # Nothing listens there: the bot gets past its checks, then cannot log in.
    monkeypatch.setenv("ATELIER_DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")
    rc = main(["run"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "ATELIER_DISCORD_TOKEN is not set" not in err
    assert "could not reach Discord at http://127.0.0.1:9/api/v10" in err
    assert "fake-token" not in out + err


# --- models -----------------------------------------------------------------------------------


def test_models_lists_the_stock_default(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    assert capsys.readouterr().out == (
        "stable-diffusion-v1-5 (default)\thub id\tstable-diffusion-v1-5/stable-diffusion-v1-5\n"
    )


def test_models_lists_configured_models_with_their_kind(
    workdir: Path,
    tiny_model_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    checkpoint = workdir / "one.safetensors"
    checkpoint.write_bytes(b"")
    models = {
        "tiny": str(tiny_model_dir),
        "single": str(checkpoint),
        "gone": "./nowhere",
        "xl": "stabilityai/stable-diffusion-xl-base-1.0",
    }
    monkeypatch.setenv("ATELIER_MODELS", json.dumps(models))
    assert main(["models"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["gone", "missing path", "./nowhere"],
        ["single", "file", str(checkpoint)],
        [
            "stable-diffusion-v1-5 (default)",
            "hub id",
            "stable-diffusion-v1-5/stable-diffusion-v1-5",
        ],
        ["tiny", "folder", str(tiny_model_dir)],
        ["xl", "hub id", "stabilityai/stable-diffusion-xl-base-1.0"],
    ]

    monkeypatch.setenv("ATELIER_MODEL", "TINY")  # a configured name, any case
    assert main(["models"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert names == ["gone", "single", "tiny (default)", "xl"]


# --- make-tiny-model --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "pipeline"), [("sd", "StableDiffusionPipeline"), ("sdxl", "StableDiffusionXLPipeline")]
)
def test_make_tiny_model_writes_a_loadable_pipeline(
    workdir: Path, capsys: pytest.CaptureFixture[str], arch: str, pipeline: str
) -> None:
    argv = ["make-tiny-model", "models/tiny"] + (["--arch", arch] if arch != "sd" else [])
    assert main(argv) == 0
    assert "models/tiny" in capsys.readouterr().out
    folder = workdir / "models" / "tiny"
    index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    assert index["_class_name"] == pipeline
    backend = DiffusersBackend.load(ModelRef("tiny", str(folder)), "cpu")
    assert backend.native_size == 64
    assert backend.is_sdxl == (arch == "sdxl")


def test_make_tiny_model_with_an_ip_adapter_that_conditions_it_on_an_image(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["make-tiny-model", "tiny", "--ip-adapter"]) == 0
    adapter = workdir / "tiny" / "ip-adapter" / "models" / "ip-adapter_tiny.safetensors"
    assert f"ATELIER_IP_ADAPTER={adapter.resolve()}" in capsys.readouterr().out
    backend = DiffusersBackend.load(
        ModelRef("tiny", str(workdir / "tiny")), "cpu", ip_adapter=ip_adapter_ref(str(adapter))
    )
    Image.new("RGB", (20, 20), (250, 200, 0)).save(workdir / "sun.png")
    job = plan(backend, "a fox --seed 1")
    prompted = replace(job, image_prompts=(ImagePrompt(str(workdir / "sun.png"), "0" * 64, "x"),))
    assert backend.generate(prompted)[0].tobytes() != backend.generate(job)[0].tobytes()


# --- db backup --------------------------------------------------------------------------------


def test_db_backup_after_imagine_holds_the_job(
    workdir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _imagine(tiny_model_dir, f"a boat --seed 3 {FAST}") == 0
    capsys.readouterr()
    rc = main(["db", "backup", "backups/copy.db"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "backups/copy.db" in out
    backup = workdir / "backups" / "copy.db"
    assert sorted(p.name for p in backup.parent.iterdir()) == ["copy.db"]  # one whole file
    [(job, images)] = _recorded(backup)
    assert (job.prompt, job.status) == ("a boat", JobStatus.DONE)
    assert [image.seed for image in images] == [3, 4, 5, 6]


def test_db_backup_never_overwrites(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _recorded(_db_path(workdir))  # creates an empty, migrated database
    target = workdir / "copy.db"
    target.write_bytes(b"an earlier backup")
    rc = main(["db", "backup", str(target)])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "already exists" in err
    assert target.read_bytes() == b"an earlier backup"


def test_db_backup_without_database(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["db", "backup", "copy.db"])
    _, err = capsys.readouterr()
    assert rc == 2
    assert "no database" in err
    assert "ATELIER_DATA_DIR" in err
    assert list(workdir.iterdir()) == []  # neither a database nor a backup was created


# --- the installed entry points ---------------------------------------------------------------


def _clean_environ(data_dir: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ATELIER_")}
    env["ATELIER_DATA_DIR"] = str(data_dir)
    return env


def test_console_script_imagine(workdir: Path, tiny_model_dir: Path) -> None:
    script = Path(sys.executable).with_name("atelier")
    assert script.exists(), "the console script is not installed; pip install -e ."
    done = subprocess.run(
        [str(script), "imagine", f"a lighthouse --seed 3 {FAST}", "--model", str(tiny_model_dir)],
        cwd=workdir,
        env=_clean_environ(workdir / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "grid.png: seeds 3, 4, 5, 6"
    assert sorted(p.name for p in workdir.glob("*.png")) == [
        "grid-1.png",
        "grid-2.png",
        "grid-3.png",
        "grid-4.png",
        "grid.png",
    ]
    # Progress on a pipe: no carriage returns, just the final line.
    assert "imagine [" in done.stderr
    assert "100% step 2/2" in done.stderr
    assert "\r" not in done.stderr
    [(job, _)] = _recorded(workdir / "data" / "atelier.db")
    assert job.status is JobStatus.DONE


def _statuses(db_path: Path) -> list[str]:
    """Job statuses read with plain sqlite3, while another process writes."""
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as conn:
        try:
            statuses = [row[0] for row in conn.execute("SELECT status FROM jobs ORDER BY id")]
        except sqlite3.OperationalError:  # not migrated yet
            statuses = []
    conn.close()
    return statuses


def test_ctrl_c_cancels_every_job_and_writes_no_images(workdir: Path, tiny_model_dir: Path) -> None:
    """An interrupted run leaves nothing queued behind (the bot would otherwise inherit it)
    and no half-written files."""
    script = Path(sys.executable).with_name("atelier")
    prompt = "a car --steps 150 --q 2 --repeat 3"
    process = subprocess.Popen(
        [str(script), "imagine", prompt, "--model", str(tiny_model_dir)],
        cwd=workdir,
        env=_clean_environ(workdir / "data"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        # all three recorded, one of them running
        while sorted(_statuses(_db_path(workdir))) != ["queued", "queued", "running"]:
            assert time.monotonic() < deadline, _statuses(_db_path(workdir))
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    assert "atelier: interrupted" in err
    assert _statuses(_db_path(workdir)) == ["cancelled"] * 3
    assert list(workdir.glob("*.png")) == []


def test_python_dash_m_bot(workdir: Path) -> None:
    assert (Path(__file__).parents[2] / "bot" / "__main__.py").is_file()
    env = _clean_environ(workdir / "data")
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: atelier")
    for command in ("run", "imagine", "models", "make-tiny-model", "db"):
        assert command in shown.stdout
    # With no arguments it starts the bot, like `atelier run`: without a token, exit 2.
    started = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert started.returncode == 2
    assert "ATELIER_DISCORD_TOKEN is not set" in started.stderr


# --- existing files, --version and --help -----------------------------------------------------


def test_imagine_never_overwrites_a_file_unless_forced(
    workdir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "grid-2.png").write_bytes(b"someone's picture")
    rc = _imagine(tiny_model_dir, f"a car {FAST}")
    _, err = capsys.readouterr()
    assert rc == 2
    assert err.splitlines() == [
        "atelier: --out grid.png: grid-2.png already exists; choose another --out, or add "
        "--force to overwrite"
    ]
    assert (workdir / "grid-2.png").read_bytes() == b"someone's picture"
    assert sorted(p.name for p in workdir.glob("*.png")) == ["grid-2.png"]
    assert _recorded(_db_path(workdir)) == []

    assert _imagine(tiny_model_dir, f"a car {FAST}", "--force") == 0
    with Image.open(workdir / "grid-2.png") as image:
        assert image.size == (64, 64)


def test_several_existing_files_are_named_in_one_line(
    workdir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("grid.png", "grid-1.png"):
        (workdir / name).write_bytes(b"someone's picture")
    assert _imagine(tiny_model_dir, f"a car {FAST}") == 2
    _, err = capsys.readouterr()
    assert err.splitlines() == [
        "atelier: --out grid.png: grid.png, grid-1.png already exist; choose another --out, "
        "or add --force to overwrite"
    ]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == "atelier 0.1.0\n"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["run"], ["ATELIER_DISCORD_TOKEN", ".env", "atelier check", "(default 30)"]),
        (["check"], ["without Discord", "exit code 0 if all passed, 2 if not"]),
        (["imagine"], ["--ar W:H", "--seed N", "default grid.png", "--force", "ATELIER_MODEL"]),
        (["health"], ["/healthz", "ATELIER_WEB_PORT", "(default 8080)"]),
        (["make-tiny-model"], ["(default sd)", "(default 0)"]),
        (["db", "backup"], ["never overwritten", "before upgrading"]),
        (["models"], ["ATELIER_MODELS", "LoRAs (ATELIER_LORAS)", "registered with /models add"]),
    ],
    ids=["run", "check", "imagine", "health", "make-tiny-model", "db-backup", "models"],
)
def test_every_command_help_says_what_it_does_and_its_defaults(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for text in says:
        assert text in shown
