"""Operator settings: ATELIER_* variables and .env, validated into one readable line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_MODEL, Settings, SettingsError, load_settings
from inference.jobs import EngineDefaults
from inference.params import ParamError, ParseLimits, parse
from inference.pool.config import UserLimits
from registry.configured import configured_models

TOKEN = "MTIz.fake-token-value-xyz"


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    """The SettingsError lines for the ATELIER_* variables in ``env``."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == "\n".join(raised.value.problems)
    return raised.value.problems


def test_defaults(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.model == DEFAULT_MODEL
    assert settings.models == {}
    assert settings.data_dir == Path("data")
    assert settings.database_path == Path("data") / "atelier.db"
    assert settings.images_dir == Path("data") / "images"
    assert settings.devices == "auto"
    assert settings.dtype == "auto"
    assert settings.discord_api_base == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg"
    assert settings.default_steps == 30
    assert settings.default_sampler == "dpm++2m_karras"
    assert settings.max_repeat == 4
    assert settings.max_jobs_per_prompt == 10
    assert settings.log_level == "INFO"


def test_reads_prefixed_environment_variables_only(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "12")
    monkeypatch.setenv("ATELIER_DATA_DIR", str(clean_env / "state"))
    monkeypatch.setenv("DEVICES", "cpu")  # no prefix: not ours
    monkeypatch.setenv("MAX_REPEAT", "2")
    settings = load_settings()
    assert settings.default_steps == 12
    assert settings.database_path == clean_env / "state" / "atelier.db"
    assert settings.devices == "auto"
    assert settings.max_repeat == 4


def test_overrides_win_over_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "12")
    assert load_settings(default_steps=7).default_steps == 7


def test_dotenv_in_working_directory_is_read_and_environment_wins(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "ATELIER_DEFAULT_STEPS=20\nATELIER_MAX_REPEAT=2\nATELIER_DISCORD_TOKEN=from-dotenv\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "25")
    settings = load_settings()
    assert settings.default_steps == 25  # the environment wins
    assert settings.max_repeat == 2  # only in .env
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "from-dotenv"


def test_dotenv_elsewhere_is_not_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = clean_env / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("ATELIER_DEFAULT_STEPS=20\n", encoding="utf-8")
    assert load_settings().default_steps == 30
    monkeypatch.chdir(elsewhere)
    assert load_settings().default_steps == 20


def test_invalid_value_in_dotenv_is_reported_like_one_in_the_environment(
    clean_env: Path,
) -> None:
    (clean_env / ".env").write_text("ATELIER_DEFAULT_STEPS=0\n", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    [problem] = raised.value.problems
    assert problem.startswith("ATELIER_DEFAULT_STEPS")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", "auto"),
        ("cpu", "cpu"),
        ("mps", "mps"),
        ("cuda:0", "cuda:0"),
        ("cuda:0,cuda:1", "cuda:0,cuda:1"),
        (" CUDA:0 , cuda:1 ", "cuda:0,cuda:1"),
    ],
)
def test_devices_accepted(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("ATELIER_DEVICES", value)
    assert load_settings().devices == expected


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ("gpu", "gpu"),
        ("cuda", "cuda"),
        ("cuda:x", "cuda:x"),
        ("cuda:0,gpu", "gpu"),
        ("cuda:0,cuda:0", "twice"),
        ("cpu,cpu", "twice"),
        ("", "not a device"),
        ("cpu,", "not a device"),
    ],
)
def test_devices_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str, named: str
) -> None:
    [problem] = _problems(monkeypatch, ATELIER_DEVICES=value)
    assert problem.startswith("ATELIER_DEVICES")
    assert named in problem


def test_models_as_json_dict(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ATELIER_MODELS", '{"sd15": "org/sd15", "mine": "./checkpoints/mine.safetensors"}'
    )
    settings = load_settings()
    assert settings.models == {"sd15": "org/sd15", "mine": "./checkpoints/mine.safetensors"}


@pytest.mark.parametrize("value", ["{bad", '{"sd15": "org/sd15",}', "sd15=org/sd15"])
def test_models_invalid_json_is_one_clear_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    [problem] = _problems(monkeypatch, ATELIER_MODELS=value)
    assert problem.startswith("ATELIER_MODELS")
    assert "JSON" in problem
    assert "\n" not in problem
    assert "Traceback" not in problem


def test_invalid_json_does_not_hide_other_problems(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = _problems(monkeypatch, ATELIER_MODELS="{bad", ATELIER_DEVICES="gpu")
    assert sorted(problem.split("=")[0].split(":")[0] for problem in problems) == [
        "ATELIER_DEVICES",
        "ATELIER_MODELS",
    ]


@pytest.mark.parametrize("value", ['["org/sd15"]', '{"sd15": 5}'])
def test_models_json_of_the_wrong_shape(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    [problem] = _problems(monkeypatch, ATELIER_MODELS=value)
    assert problem.startswith("ATELIER_MODELS")


def test_several_problems_give_one_line_each_starting_with_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {
        "ATELIER_DEVICES": "gpu",
        "ATELIER_DEFAULT_STEPS": "0",
        "ATELIER_DTYPE": "fp8",
        "ATELIER_DISCORD_API_BASE": "ftp://discord.com",
        "ATELIER_DISCORD_GATEWAY_URL": "https://gateway.discord.gg",
        "ATELIER_DEFAULT_SAMPLER": "bogus",
        "ATELIER_MAX_REPEAT": "many",
        "ATELIER_LOG_LEVEL": "LOUD",
        "ATELIER_MODEL": "   ",
        "ATELIER_UPSCALE_STRENGTH": "0",
    }
    problems = _problems(monkeypatch, ATELIER_DISCORD_TOKEN=TOKEN, **bad)
    assert len(problems) == len(bad)
    assert sorted(problem.split("=")[0].split(":")[0] for problem in problems) == sorted(bad)
    for problem in problems:
        assert "\n" not in problem
        name = problem.split("=")[0]
        assert repr(bad[name]) in problem  # shows the value it refused


def test_valid_settings_next_to_invalid_ones_are_not_reported(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = _problems(
        monkeypatch, ATELIER_DEVICES="cpu", ATELIER_DEFAULT_STEPS="151", ATELIER_MAX_REPEAT="4"
    )
    assert [problem.split("=")[0] for problem in problems] == ["ATELIER_DEFAULT_STEPS"]


@pytest.mark.parametrize(
    "env",
    [
        {"ATELIER_DEVICES": "gpu", "ATELIER_DEFAULT_STEPS": "0"},
        {"ATELIER_MODELS": "{bad"},
        {"ATELIER_MODELS": "{bad", "ATELIER_DEVICES": "gpu"},
    ],
    ids=["validation", "json", "json-and-validation"],
)
def test_token_never_in_settings_errors(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    monkeypatch.setenv("ATELIER_DISCORD_TOKEN", TOKEN)
    problems = _problems(monkeypatch, **env)
    assert "fake-token" not in "\n".join(problems)


def test_token_never_in_settings_errors_when_token_itself_is_invalid(clean_env: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(discord_token=[TOKEN])
    [problem] = raised.value.problems
    assert problem.startswith("ATELIER_DISCORD_TOKEN")
    assert "fake-token" not in str(raised.value)
    assert "fake-token" not in repr(raised.value)


def test_token_never_in_str_or_repr_of_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == TOKEN
    for text in (str(settings), repr(settings), str(settings.model_dump())):
        assert "fake-token" not in text
    assert "fake-token" not in settings.model_dump_json()


def test_configured_models_reflect_models_and_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path
) -> None:
    monkeypatch.setenv("ATELIER_MODELS", f'{{"Tiny": "{tiny_model_dir}", "hub": "org/repo"}}')
    settings = load_settings()
    configured = configured_models(settings.models, settings.model)
    # Without ATELIER_MODEL the default is the stock hub model, entered next to the named ones
    # under the names the registry gives them.
    assert configured.sources == {
        "hub": "org/repo",
        "stable-diffusion-v1-5": DEFAULT_MODEL,
        "tiny": str(tiny_model_dir),
    }
    assert configured.default == "stable-diffusion-v1-5"

    monkeypatch.setenv("ATELIER_MODEL", "TINY")  # a configured name, any case
    settings = load_settings()
    configured = configured_models(settings.models, settings.model)
    assert configured.default == "tiny"
    assert list(configured.sources) == ["hub", "tiny"]


def test_engine_defaults_reflect_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().engine_defaults() == EngineDefaults(steps=30, sampler="dpm++2m_karras")
    monkeypatch.setenv("ATELIER_DEFAULT_STEPS", "12")
    monkeypatch.setenv("ATELIER_DEFAULT_SAMPLER", "DDIM")
    monkeypatch.setenv("ATELIER_VARIATION_SUBTLE_STRENGTH", "0.2")
    monkeypatch.setenv("ATELIER_VARIATION_STRONG_STRENGTH", "0.9")
    monkeypatch.setenv("ATELIER_UPSCALE_STRENGTH", "0.4")
    monkeypatch.setenv("ATELIER_UPSCALE_SUBTLE_STRENGTH", "0.15")
    monkeypatch.setenv("ATELIER_UPSCALE_CREATIVE_STRENGTH", "0.6")
    defaults = load_settings().engine_defaults()
    assert defaults.steps == 12
    assert defaults.sampler == "ddim"
    assert defaults.subtle_strength == pytest.approx(0.2)
    assert defaults.strong_strength == pytest.approx(0.9)
    assert defaults.upscale_strength == pytest.approx(0.4)
    assert defaults.upscale_subtle_strength == pytest.approx(0.15)
    assert defaults.upscale_creative_strength == pytest.approx(0.6)


def test_parse_limits_reflect_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().parse_limits() == ParseLimits(max_repeat=4, max_jobs=10)
    monkeypatch.setenv("ATELIER_MAX_REPEAT", "2")
    monkeypatch.setenv("ATELIER_MAX_JOBS_PER_PROMPT", "3")
    limits = load_settings().parse_limits()
    assert (limits.max_repeat, limits.max_jobs) == (2, 3)
    # ...and the parser applies them.
    assert len(parse("a fox --repeat 2", limits)) == 2
    with pytest.raises(ParamError, match="--repeat"):
        parse("a fox --repeat 3", limits)
    with pytest.raises(ParamError, match="limit is 3"):
        parse("a {fox, cat} --repeat 2", limits)


def test_pool_settings_default_to_auto_and_midjourney_limits(clean_env: Path) -> None:
    config = load_settings().pool_config(["cpu"])
    assert config.devices == ("cpu",)
    assert config.limits == UserLimits(max_running=3, max_queued=10)
    assert config.max_batch_images is None  # auto: decided per device
    assert config.vram_budget_gb is None
    assert config.preview_every == 5
    assert config.shutdown_grace_seconds == 30


def test_pool_settings_reflect_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "ATELIER_MAX_RUNNING_PER_USER": "1",
        "ATELIER_MAX_QUEUED_PER_USER": "25",
        "ATELIER_MAX_BATCH_IMAGES": "12",
        "ATELIER_VRAM_BUDGET_GB": "10.5",
        "ATELIER_PREVIEW_EVERY_STEPS": "0",
        "ATELIER_SHUTDOWN_GRACE_SECONDS": "90",
        "ATELIER_WORKER_HANG_SECONDS": "120",
    }.items():
        monkeypatch.setenv(name, value)
    config = load_settings().pool_config(["cuda:0", "cuda:1"])
    assert config.devices == ("cuda:0", "cuda:1")
    assert config.limits == UserLimits(max_running=1, max_queued=25)
    assert config.max_batch_images == 12
    assert config.vram_budget_gb == 10.5
    assert config.preview_every == 0
    assert config.shutdown_grace_seconds == 90
    assert config.hang_seconds == 120


@pytest.mark.parametrize("value", ["auto", "AUTO", " auto "])
def test_auto_batch_and_budget_are_spelled_freely(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ATELIER_MAX_BATCH_IMAGES", value)
    monkeypatch.setenv("ATELIER_VRAM_BUDGET_GB", value)
    settings = load_settings()
    assert settings.max_batch_images is None
    assert settings.vram_budget_gb is None


def test_pool_settings_refused_with_one_line_each(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = _problems(
        monkeypatch,
        ATELIER_MAX_BATCH_IMAGES="lots",
        ATELIER_VRAM_BUDGET_GB="0",
        ATELIER_MAX_RUNNING_PER_USER="0",
    )
    assert len(problems) == 3
    assert problems[0].startswith("ATELIER_MAX_RUNNING_PER_USER='0'")
    assert any(p.startswith("ATELIER_MAX_BATCH_IMAGES='lots'") for p in problems)
    assert any(p.startswith("ATELIER_VRAM_BUDGET_GB='0'") for p in problems)


def test_home_guild_ids_default_to_every_server_and_read_a_comma_separated_list(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().home_guild_ids == frozenset()
    monkeypatch.setenv("ATELIER_HOME_GUILD_IDS", " 123456789012345678, 42 ,")
    assert load_settings().home_guild_ids == {123456789012345678, 42}
    monkeypatch.setenv("ATELIER_HOME_GUILD_IDS", "")
    assert load_settings().home_guild_ids == frozenset()


def test_home_guild_ids_that_are_not_server_ids_are_one_line_naming_them(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [problem] = _problems(monkeypatch, ATELIER_HOME_GUILD_IDS="42, my-server, -7, 0")
    assert problem.startswith("ATELIER_HOME_GUILD_IDS='42, my-server, -7, 0'")
    assert "my-server, -7, 0 are not server ids" in problem


# --- .env and names that are not settings -----------------------------------------------------


def test_a_misspelt_name_in_dotenv_is_refused_naming_the_file_and_the_nearest_setting(
    clean_env: Path,
) -> None:
    (clean_env / ".env").write_text("ATELIER_DEVICES=cpu\nATELIER_MODLE=./x\n", encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.problems == [
        ".env: ATELIER_MODLE is not a setting; did you mean ATELIER_MODEL?"
    ]


def test_a_misspelt_name_in_the_environment_is_refused_any_case(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("atelier_max_repeats", "3")
    monkeypatch.setenv("ATELIER_WHATEVER", "1")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert sorted(raised.value.problems) == [
        "environment: ATELIER_WHATEVER is not a setting; see README.md, Configuration",
        "environment: atelier_max_repeats is not a setting; did you mean ATELIER_MAX_REPEAT?",
    ]


def test_every_setting_is_a_known_name(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Known names come from the settings themselves: one added later is known at once."""
    for name in Settings.model_fields:
        monkeypatch.setenv(f"ATELIER_{name.upper()}", "")
    with pytest.raises(SettingsError) as raised:  # empty values are refused; names are not
        load_settings()
    assert not [problem for problem in raised.value.problems if "is not a setting" in problem]


def test_a_dotenv_line_that_cannot_be_parsed_names_the_file_and_line_not_its_text(
    clean_env: Path,
) -> None:
    (clean_env / ".env").write_text(
        "ATELIER_DEVICES=cpu\nATELIER_DISCORD_TOKEN secret-looking-value\n", encoding="utf-8"
    )
    with pytest.raises(SettingsError) as raised:
        load_settings()
    [problem] = raised.value.problems
    assert problem.startswith(".env line 2 is not NAME=value")
    assert "secret-looking-value" not in problem


def test_a_dotenv_that_is_not_utf8_names_the_file_and_line(clean_env: Path) -> None:
    (clean_env / ".env").write_bytes(b"ATELIER_DEVICES=cpu\nATELIER_MODEL=caf\xe9\n")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert raised.value.problems == [".env line 2 is not UTF-8 text; save the file as UTF-8"]


def test_a_bad_entry_in_models_json_names_the_setting_and_the_entry(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_MODELS", '{"ok": "org/model", "a": 1}')
    with pytest.raises(SettingsError) as raised:
        load_settings()
    [problem] = raised.value.problems
    assert problem.startswith('ATELIER_MODELS["a"]=1: ')


def test_the_web_studio_listens_locally_on_8080_by_default(clean_env: Path) -> None:
    settings = load_settings()
    assert (settings.web_host, settings.web_port, settings.public_url) == ("127.0.0.1", 8080, None)


def test_the_public_url_is_an_http_address_without_a_trailing_slash(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATELIER_PUBLIC_URL", "https://atelier.example.org/")
    assert load_settings().public_url == "https://atelier.example.org"
    problems = _problems(
        monkeypatch, ATELIER_PUBLIC_URL="atelier.example.org", ATELIER_WEB_PORT="70000"
    )
    assert problems[0].startswith("ATELIER_WEB_PORT='70000'")
    assert problems[1].startswith("ATELIER_PUBLIC_URL='atelier.example.org': must be the http(s)")


def test_remote_workers_only_need_a_ray_cluster(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [problem] = _problems(monkeypatch, ATELIER_DEVICES="none")
    assert problem.startswith("ATELIER_RAY_ADDRESS")
    assert "ATELIER_DEVICES=none" in problem

    monkeypatch.setenv("ATELIER_RAY_ADDRESS", "auto")
    monkeypatch.setenv("ATELIER_RAY_WORKER_DEVICE", "cpu")
    settings = load_settings()
    config = settings.pool_config([])
    assert config.devices == ()
    assert config.ray is not None
    assert (config.ray.address, config.ray.max_workers, config.ray.worker_device) == (
        "auto",
        8,
        "cpu",
    )


def test_without_a_ray_address_there_are_no_remote_workers(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().pool_config(["cpu"]).ray is None


def test_an_ip_adapter_is_a_local_file_or_a_hub_file_and_unset_when_empty(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().ip_adapter_ref() is None
    monkeypatch.setenv("ATELIER_IP_ADAPTER", " ")
    assert load_settings().ip_adapter_ref() is None
    monkeypatch.setenv("ATELIER_IP_ADAPTER", "h94/IP-Adapter/models/ip-adapter_sd15.safetensors")
    ref = load_settings().ip_adapter_ref()
    assert ref is not None
    assert (ref.repo, ref.encoder_source) == (
        "h94/IP-Adapter",
        "h94/IP-Adapter/models/image_encoder",
    )
    # The hf:// form ATELIER_LORAS takes names the same hub file.
    monkeypatch.setenv(
        "ATELIER_IP_ADAPTER", "hf://h94/IP-Adapter/models/ip-adapter_sd15.safetensors"
    )
    ref = load_settings().ip_adapter_ref()
    assert ref is not None
    assert (ref.repo, ref.file) == ("h94/IP-Adapter", "models/ip-adapter_sd15.safetensors")
    monkeypatch.setenv("ATELIER_IP_ADAPTER_IMAGE_ENCODER", "./encoders/vit-h")
    ref = load_settings().ip_adapter_ref()
    assert ref is not None
    assert (ref.encoder_repo, ref.encoder_path) == (None, "encoders/vit-h")
    problems = _problems(monkeypatch, ATELIER_IP_ADAPTER="h94/IP-Adapter")
    assert len(problems) == 1
    assert problems[0].startswith("ATELIER_IP_ADAPTER='h94/IP-Adapter'")
    assert "h94/IP-Adapter/models/ip-adapter_sd15.safetensors" in problems[0]
