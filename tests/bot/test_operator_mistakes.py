"""An operator's mistakes, as the operator meets them: the ``atelier`` process answers each
with exit code 2 and one line naming the file or setting and what would be accepted, no
traceback, and writes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.database import Database
from registry.versions import ConfiguredModel, enter_configured
from tests.discord_standin import FakeDiscord

TOKEN = "MTIz.fake-token-value-xyz"
#: This checkout, ahead of any installed copy of Atelier, for the processes the tests start.
REPO = Path(__file__).resolve().parents[2]


def _atelier(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ATELIER_")}
    clean["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its content (folders as empty content)."""
    return {
        str(path.relative_to(folder)): path.read_bytes() if path.is_file() else b""
        for path in sorted(folder.rglob("*"))
    }


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    [line] = err.splitlines()
    assert line.startswith("atelier: ")
    return line.removeprefix("atelier: ")


#: (what the working folder holds, environment, command line, the line expected)
SETTINGS_MISTAKES = [
    pytest.param(
        {".env": b"ATELIER_DEVICES=cpu\nATELIER_MODLE=./models/mine\n"},
        {},
        ["run"],
        ".env: ATELIER_MODLE is not a setting; did you mean ATELIER_MODEL?",
        id="misspelt-in-dotenv",
    ),
    pytest.param(
        {},
        {"ATELIER_DEVICE": "cpu"},
        ["imagine", "a car"],
        "environment: ATELIER_DEVICE is not a setting; did you mean ATELIER_DEVICES?",
        id="misspelt-in-environment",
    ),
    pytest.param(
        {".env": b"ATELIER_DEVICES=cpu\nATELIER_DISCORD_TOKEN " + TOKEN.encode() + b"\n"},
        {},
        ["models"],
        ".env line 2 is not NAME=value (e.g. ATELIER_DEVICES=cpu); fix or delete it, or start "
        "it with # to make it a comment",
        id="dotenv-line",
    ),
    pytest.param(
        {".env": b"ATELIER_MODEL=caf\xe9\n"},
        {},
        ["db", "backup", "copy.db"],
        ".env line 1 is not UTF-8 text; save the file as UTF-8",
        id="dotenv-not-utf8",
    ),
    pytest.param(
        {},
        {"ATELIER_MODELS": '{"a": 1}'},
        ["run"],
        'ATELIER_MODELS["a"]=1: Input should be a valid string',
        id="models-entry",
    ),
    pytest.param(
        {"afile": b"x"},
        {"ATELIER_DATA_DIR": "afile/data"},
        ["db", "backup", "copy.db"],
        "there is no database at afile/data/atelier.db yet (ATELIER_DATA_DIR)",
        id="backup-no-data-folder",
    ),
    pytest.param(
        {"tiny-model": b"not a folder"},
        {},
        ["make-tiny-model", "tiny-model"],
        "tiny-model already exists; give the name of a new folder",
        id="tiny-model-exists",
    ),
    pytest.param(
        {},
        {},
        ["imagine", "a car", "--out", "/proc/atelier/grid.png"],
        "--out /proc/atelier/grid.png: the folder /proc cannot be written to; choose a folder "
        "you can write to",
        id="out-unwritable",
    ),
]


@pytest.mark.parametrize(("files", "env", "argv", "expected"), SETTINGS_MISTAKES)
def test_a_settings_or_command_line_mistake_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, files: dict[str, bytes], env: dict[str, str], argv: list[str], expected: str
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    before = _snapshot(tmp_path)
    rc, out, err = _atelier(tmp_path, *argv, env=env)
    assert rc == 2, err
    assert _one_line(err) == expected
    assert out == ""
    assert TOKEN not in out + err
    assert _snapshot(tmp_path) == before


def test_run_refuses_to_start_with_one_line_per_problem_before_logging_in(
    tmp_path: Path,
) -> None:
    """A GPU that is not there, a model that does not exist and a data folder that cannot
    be created: each told in one line, before Discord is asked (its address is a closed
    port: had it been tried, the answer would be "could not reach Discord")."""
    (tmp_path / "afile").write_text("a file where a folder should be")
    (tmp_path / "notlora.safetensors").write_bytes(b"not a LoRA")
    before = _snapshot(tmp_path)
    rc, _, err = _atelier(
        tmp_path,
        "run",
        env={
            "ATELIER_DISCORD_TOKEN": TOKEN,
            "ATELIER_DISCORD_API_BASE": "http://127.0.0.1:9/api/v10",
            "ATELIER_DEVICES": "cuda:99",
            "ATELIER_MODEL": "./nothere",
            "ATELIER_LORAS": '{"x": "./notlora.safetensors"}',
            "ATELIER_DATA_DIR": "afile/data",
        },
    )
    assert rc == 2, err
    assert "Traceback" not in err
    assert err.splitlines() == [
        "atelier: ✗ devices: ATELIER_DEVICES names cuda:99, but this machine has "
        f"{_cuda_count()} CUDA device(s); use auto or cpu, or name existing GPUs",
        "atelier: ✗ model nothere (ATELIER_MODEL): ./nothere does not exist; give a diffusers "
        "folder, a .safetensors/.ckpt file or a hub id (org/model)",
        'atelier: ✗ LoRA x (ATELIER_LORAS["x"]): ./notlora.safetensors is not a LoRA file: '
        "give the path of a .safetensors LoRA (diffusers/PEFT or kohya/A1111 format) on this "
        "machine, or hf://org/repo/file.safetensors for one in a Hugging Face hub repository",
        f"atelier: ✗ data folder: cannot create afile/data: {tmp_path / 'afile'} is not a "
        "folder; set ATELIER_DATA_DIR to a folder this user can write",
    ]
    assert _snapshot(tmp_path) == before  # no data folder, no database, no model entered


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def test_imagine_with_a_data_folder_that_cannot_be_created(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    (tmp_path / "afile").write_text("a file where a folder should be")
    before = _snapshot(tmp_path)
    rc, _, err = _atelier(
        tmp_path,
        "imagine",
        "a car --steps 1",
        "--model",
        str(tiny_model_dir),
        env={"ATELIER_DATA_DIR": "afile/data", "ATELIER_DEVICES": "cpu"},
    )
    assert rc == 2, err
    assert _one_line(err) == (
        "data folder: cannot create afile/data (Not a directory); set ATELIER_DATA_DIR to a "
        "folder this user can write"
    )
    assert _snapshot(tmp_path) == before


def test_db_backup_to_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    async def create() -> None:
        async with await Database.open(tmp_path / "data" / "atelier.db"):
            pass

    asyncio.run(create())
    before = _snapshot(tmp_path)
    rc, _, err = _atelier(
        tmp_path, "db", "backup", "/proc/atelier/copy.db", env={"ATELIER_DATA_DIR": "data"}
    )
    assert rc == 2, err
    assert _one_line(err) == (
        "/proc/atelier/copy.db: the folder /proc cannot be written to; choose a folder you "
        "can write to"
    )
    assert _snapshot(tmp_path) == before


async def test_a_registry_refusal_after_logging_in_is_one_line_exit_2(
    fake: FakeDiscord, tmp_path: Path, tiny_model_dir: Path, tiny_lora_files: dict[str, Path]
) -> None:
    """A LoRA named like a checkpoint a moderator registered: only the database knows, so
    it is found at start-up, after Discord answered; still one line, no traceback."""
    async with await Database.open(tmp_path / "data" / "atelier.db") as db:
        checkpoint = ConfiguredModel("pixel", str(tiny_model_dir), "1", "")
        await enter_configured(db, [checkpoint], now=datetime.now(UTC))
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ATELIER_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={
            **clean,
            "PYTHONPATH": str(REPO),
            "ATELIER_DISCORD_TOKEN": fake.bot_token,
            "ATELIER_DISCORD_API_BASE": fake.api_base,
            "ATELIER_DISCORD_GATEWAY_URL": fake.gateway_url,
            "ATELIER_DATA_DIR": str(tmp_path / "data"),
            "ATELIER_MODEL": str(tiny_model_dir),
            "ATELIER_LORAS": json.dumps({"pixel": str(tiny_lora_files["kohya"])}),
            "ATELIER_DEVICES": "cpu",
            "ATELIER_WEB_PORT": "0",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=90)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2, err.decode()
    assert "Traceback" not in err.decode()
    assert err.decode().splitlines()[-1] == (
        "atelier: pixel is registered as a checkpoint; the configured lora needs another name"
    )
