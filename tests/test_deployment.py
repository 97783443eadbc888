"""The files an operator deploys with: compose.yaml (valid against the Compose
specification's JSON schema, as shipped by check-jsonschema), the Dockerfile, .env.example.

No Docker engine runs here, so the image is not built: these tests hold the files to what
the README promises about them.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import torch
import yaml

from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
#: How long the bot may take to stop: running jobs' grace (default), then result uploads.
BOT_STOP_SECONDS = Settings.model_fields["shutdown_grace_seconds"].default + 15


def _compose(name: str = "compose.yaml") -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _compose_schema() -> dict[str, Any]:
    shipped = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(shipped.read_text(encoding="utf-8"))
    assert isinstance(schema, dict)
    return schema


def _seconds(duration: str) -> float:
    """A Compose duration such as ``1m30s`` or ``60s``, in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


@pytest.mark.parametrize("name", ["compose.yaml", "compose.worker.yaml"])
def test_compose_files_are_valid_against_the_compose_specification(name: str) -> None:
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_compose(name))
    ]
    assert errors == []


def test_the_schema_catches_a_mistake() -> None:
    """The validation above is real: a misspelt key fails it."""
    schema = _compose_schema()
    broken = _compose()
    broken["services"]["bot"]["stop_grace_periode"] = "60s"
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


def test_compose_runs_the_bot_on_every_gpu_with_its_volume_env_grace_and_restart() -> None:
    [bot] = _compose()["services"].values()
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["environment"]["ATELIER_DATA_DIR"] == "/data"  # wins over .env
    assert "atelier-data:/data" in bot["volumes"]
    assert "atelier-data" in _compose()["volumes"]
    assert bot["restart"] in ("unless-stopped", "always")
    assert _seconds(bot["stop_grace_period"]) >= BOT_STOP_SECONDS + 10
    [gpus] = bot["deploy"]["resources"]["reservations"]["devices"]
    assert gpus == {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}


def test_the_worker_host_does_not_inherit_the_bot_s_health_check() -> None:
    """The image's HEALTHCHECK asks the bot's web server, which a worker host never runs."""
    assert any("atelier" in line and "health" in line for line in _dockerfile())
    [worker] = _compose("compose.worker.yaml")["services"].values()
    assert worker["healthcheck"] == {"disable": True}


def _dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [" ".join(part.split()) for part in "\n".join(lines).replace("\\\n", " ").split("\n")]


def test_dockerfile_installs_dependencies_before_copying_the_code() -> None:
    instructions = [line for line in _dockerfile() if line]
    copies = [i for i, line in enumerate(instructions) if line.startswith("COPY ")]
    assert instructions[copies[0]] == "COPY pyproject.toml ./"
    install = next(i for i, line in enumerate(instructions) if "-r /tmp/requirements.txt" in line)
    assert copies[0] < install < copies[1]
    assert instructions[copies[1]] == "COPY . ."


def test_dockerfile_torch_is_the_version_the_tests_run_on() -> None:
    [arg] = [line for line in _dockerfile() if line.startswith("ARG TORCH_VERSION=")]
    tested = torch.__version__.split("+")[0]
    assert arg == f"ARG TORCH_VERSION={tested}"
    assert f"TORCH ?= torch=={tested}" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_dockerfile_keeps_data_on_the_volume_and_checks_health() -> None:
    instructions = _dockerfile()
    env = next(line for line in instructions if line.startswith("ENV "))
    assert "ATELIER_DATA_DIR=/data" in env
    assert "ATELIER_DATA_VOLUME=/data" in env
    assert 'VOLUME ["/data"]' in instructions
    [health] = [line for line in instructions if line.startswith("HEALTHCHECK ")]
    assert health.endswith('CMD ["atelier", "health"]')


def test_env_example_holds_only_settings_and_leaves_the_data_folder_to_docker(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert not re.search(r"^\s*ATELIER_DATA_DIR=", example, re.MULTILINE)
    (clean_env / ".env").write_text(example, encoding="utf-8")
    settings = load_settings()  # no unknown name, no unreadable line
    assert settings.data_dir == Path("data")
