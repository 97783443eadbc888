"""LoRAs through the loopback Discord stand-in: a moderator registers one with /models add
(kind lora), releases it, and members use it with <lora:…> in /imagine; each mistake is
refused with a message naming the tag."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from db.jobs import get_job, list_images
from registry.releases import release
from tests.discord_standin import FakeDiscord, FakeUser
from tests.helpers.campaigns import T0
from tests.helpers.clock import FakeClock
from tests.helpers.discord_bots import Bots, is_result, job_id_of
from tests.helpers.hub_cache import FakeHubCache
from tests.helpers.pngmeta import read_parameters


def _sdxl_lora(path: Path) -> Path:
    stem = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k"
    save_file(
        {
            f"{stem}.lora_down.weight": np.zeros((1, 2048), dtype=np.float16),
            f"{stem}.lora_up.weight": np.zeros((640, 1), dtype=np.float16),
        },
        str(path),
    )
    return path


async def test_a_registered_lora_is_used_from_a_prompt_and_credited(
    bots: Bots, fake: FakeDiscord, alice: FakeUser, tiny_lora_files: dict[str, Path]
) -> None:
    bot = await bots.start(clock=FakeClock(T0))
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    maker = fake.add_user("maker")
    lora_file = tiny_lora_files["kohya"]
    added = await fake.slash(
        "models add",
        {
            "name": "PixelArt",
            "version": "1",
            "source": str(lora_file),
            "family": "other",
            "kind": "lora",
            "creator": maker,
            "trigger_words": "pixel art",
            "default_weight": 0.8,
        },
        user=mod,
    )
    text = (await added.wait_original(lambda m: bool(m.content))).content
    assert "Added **pixelart:1** (LoRA, upcoming)" in text
    assert "`<lora:pixelart:0.8>`" in text
    await fake.slash("models release", {"model": "pixelart:1", "early_access_days": 0}, user=mod)
    edited = await fake.slash(
        "models edit", {"model": "pixelart:1", "steps": 3, "sampler": "euler_a"}, user=mod
    )
    assert "Updated **pixelart:1**" in (await edited.wait_original()).content

    prompt = "a fox in snow <lora:pixelart:0.5> --seed 9"
    made = await fake.slash("imagine", {"prompt": prompt}, user=alice)
    grid = await made.wait_original(is_result, timeout=60)
    job = await get_job(bot.db, job_id_of(grid))
    assert job is not None
    assert job.params["loras"][0]["key"] == "pixelart:1"
    assert job.params["loras"][0]["weight"] == 0.5
    # The creator's recommendation applied and is recorded with the job.
    assert (job.params["steps"], job.params["sampler"]) == (3, "euler_a")
    assert job.params["request"]["recommended"] == {"steps": "3", "sampler": "euler_a"}
    images = await list_images(bot.db, job.id)
    parameters = read_parameters(Path(images[0].path))
    assert parameters is not None
    short = hashlib.sha256(lora_file.read_bytes()).hexdigest()[:10]
    assert parameters.startswith("a fox in snow <lora:pixelart:0.5>\n")
    assert f'Lora hashes: "pixelart: {short}"' in parameters

    # The member's own flag wins over the recommendation.
    own = await fake.slash("imagine", {"prompt": f"{prompt} --steps 2"}, user=alice)
    own_job = await get_job(bot.db, job_id_of(await own.wait_original(is_result, timeout=60)))
    assert own_job is not None
    assert own_job.params["steps"] == 2
    assert own_job.params["request"]["recommended"] == {"sampler": "euler_a"}

    info = await fake.slash("models info", {"model": "pixelart"}, user=alice)
    embed = (await info.wait_original(lambda m: bool(m.embeds))).embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Images made"] == "8"
    assert fields["Creator"] == f"<@{maker.id}>"
    assert fields["Hash (SHA-256)"] == f"`{short}`"
    assert fields["Trigger words"] == "pixel art"
    assert "steps 3" in fields["Recommended settings"]


async def test_each_lora_mistake_is_refused_naming_the_tag(
    bots: Bots,
    fake: FakeDiscord,
    alice: FakeUser,
    tiny_lora_files: dict[str, Path],
    tmp_path: Path,
) -> None:
    bot = await bots.start(clock=FakeClock(T0))
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)

    async def add(fields: dict[str, object]) -> str:
        answer = await fake.slash("models add", {"version": "1", **fields}, user=mod)
        return (await answer.wait_original(lambda m: bool(m.content))).content

    not_lora = tmp_path / "notes.safetensors"
    not_lora.write_text("hello")
    refused = await add({"name": "bad", "source": str(not_lora), "family": "sd1", "kind": "lora"})
    assert "is not a LoRA file the bot can use" in refused
    assert "sdxl" not in refused
    assert "Added" in await add({"name": "base", "source": str(bots.model_dir), "family": "sd1"})
    xl = _sdxl_lora(tmp_path / "xl.safetensors")
    wrong = await add({"name": "xlstyle", "source": str(xl), "family": "sd1", "kind": "lora"})
    assert "is a LoRA for SDXL (family `sdxl`), not for `sd1`" in wrong
    assert "Added" in await add(
        {"name": "xlstyle", "source": str(xl), "family": "sdxl", "kind": "lora"}
    )
    assert "Added" in await add(
        {
            "name": "ink",
            "source": str(tiny_lora_files["diffusers"]),
            "family": "sd1",
            "kind": "lora",
        }
    )
    for key in ("base:1", "xlstyle:1"):
        await release(bot.db, key, early_access_days=0, now=T0)
    await release(bot.db, "ink:1", early_access_days=3, now=T0)

    async def imagine(prompt: str) -> str:
        answer = await fake.slash("imagine", {"prompt": prompt}, user=alice)
        message = await answer.wait_original()
        assert answer.ephemeral
        return message.content

    assert "<lora:inc:1>: unknown LoRA `inc` (did you mean `ink`?)" in await imagine(
        "a fox <lora:inc:1>"
    )
    assert "<lora:ink:3>: the weight must be a number from -2 to 2" in await imagine(
        "a fox <lora:ink:3>"
    )
    assert "this prompt has 5 LoRA tags; at most 4 per job" in await imagine(
        "a fox <lora:a> <lora:b> <lora:c> <lora:d> <lora:e>"
    )
    assert (
        "<lora:xlstyle>: `xlstyle:1` is a LoRA for SDXL; `base:1` is a SD 1.x model"
        in await imagine("a fox <lora:xlstyle> --model base")
    )
    early = await imagine("a fox <lora:ink:0.5> --model base")
    assert "<lora:ink:0.5>: `ink:1` is in early access for the backers of its campaign" in early
    assert "`base` is a checkpoint, not a LoRA" in await imagine("a fox <lora:base>")
    assert "`ink` is a LoRA: add it to the prompt" in await imagine("a fox --model ink")


async def test_a_hub_lora_is_checked_and_hashed_when_added_and_its_hash_is_in_the_png(
    bots: Bots,
    fake: FakeDiscord,
    alice: FakeUser,
    tiny_lora_files: dict[str, Path],
    hub_cache: FakeHubCache,
) -> None:
    bot = await bots.start(clock=FakeClock(T0))
    assert bot.db is not None
    mod = fake.add_user("mod", manage_guild=True)
    lora = tiny_lora_files["diffusers"]
    hub_cache.put("org/loras", "styles/ink.safetensors", lora)
    hub_cache.put(
        "org/loras", "unet.safetensors", next((bots.model_dir / "unet").glob("*.safetensors"))
    )

    async def add(fields: dict[str, object]) -> str:
        fields = {"version": "1", "family": "other", "kind": "lora", **fields}
        answer = await fake.slash("models add", fields, user=mod)
        return (await answer.wait_original(lambda m: bool(m.content))).content

    refused = await add({"name": "unet", "source": "org/loras", "file_name": "unet.safetensors"})
    assert "`hf://org/loras/unet.safetensors` is not a LoRA file the bot can use" in refused
    gone = await add({"name": "gone", "source": "hf://org/loras/gone.safetensors"})
    assert "`hf://org/loras/gone.safetensors` cannot be read: it is not in the Hugging" in gone
    added = await add({"name": "ink", "source": "org/loras", "file_name": "styles/ink.safetensors"})
    assert "Added **ink:1** (LoRA, upcoming)" in added
    await release(bot.db, "ink:1", early_access_days=0, now=T0)
    info = await fake.slash("models info", {"model": "ink"}, user=alice)
    embed = (await info.wait_original(lambda m: bool(m.embeds))).embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Source"] == "hub: `hf://org/loras/styles/ink.safetensors`"
    short = hashlib.sha256(lora.read_bytes()).hexdigest()[:10]
    assert fields["Hash (SHA-256)"] == f"`{short}`"

    made = await fake.slash("imagine", {"prompt": "a fox <lora:ink:0.7> --seed 4"}, user=alice)
    images = await list_images(bot.db, job_id_of(await made.wait_original(is_result, timeout=60)))
    parameters = read_parameters(Path(images[0].path))
    assert parameters is not None
    assert f'Lora hashes: "ink: {short}"' in parameters
