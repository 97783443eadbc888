"""The model registry's rules, on a real SQLite file: adding, validating, editing,
certifying, retiring, finding versions, configured models, and images made per model."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from db.database import Database
from db.jobs import ImageRecord, JobKind, insert_images, insert_job
from registry.errors import RegistryError, RegistryHint
from registry.releases import release
from registry.versions import (
    ConfiguredModel,
    NewVersion,
    VersionEdit,
    VersionStatus,
    add_version,
    all_versions,
    edit_version,
    enter_configured,
    find_version,
    images_made,
    retire,
    runnable_version,
    set_certified,
)
from tests.helpers.campaigns import CREATOR, MODERATOR, T0
from tests.helpers.registry import new_version


def _new(**fields: str) -> NewVersion:
    values = {"name": "dreamy", "version": "2", "source": "org/dreamy", "family": "sdxl"}
    values.update(fields)
    return NewVersion(**values)


async def test_an_added_version_is_upcoming_with_every_field_kept(db: Database) -> None:
    added = await add_version(
        db,
        NewVersion(
            name=" Dreamy ",
            version="V2",
            source="org/dreamy",
            family="SDXL",
            license_name="CreativeML OpenRAIL-M",
            license_url="https://example.org/license",
            creator_id=CREATOR,
            description="soft light",
        ),
        added_by=MODERATOR,
        now=T0,
    )
    assert added.key == "dreamy:v2"  # names and versions are matched without case
    assert added.status is VersionStatus.UPCOMING
    assert (added.family, added.license_name, added.license_url) == (
        "sdxl",
        "CreativeML OpenRAIL-M",
        "https://example.org/license",
    )
    assert (added.creator_id, added.description, added.certified) == (CREATOR, "soft light", False)
    assert await find_version(db, "DREAMY:v2") == added


async def test_the_same_version_cannot_be_added_twice(db: Database) -> None:
    await add_version(db, _new(), added_by=MODERATOR, now=T0)
    with pytest.raises(RegistryError, match="already exists") as twice:
        await add_version(db, _new(source="org/other"), added_by=MODERATOR, now=T0)
    assert twice.value.hint is RegistryHint.EDIT
    assert len(await all_versions(db)) == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"name": "my model"}, "not a valid model name"),
        ({"name": "-dash"}, "not a valid model name"),
        ({"name": "x" * 65}, "not a valid model name"),
        ({"version": "2:1"}, "not a valid version"),
        ({"family": "midjourney"}, "sd1, sd2, sdxl, sd3, flux, other"),
        ({"license_url": "ftp://example.org/l"}, "http:// or https://"),
        ({"license_url": "example.org/license"}, "http:// or https://"),
        ({"source": "  "}, "hub id"),
        ({"source": "org/a\norg/b"}, "one line"),
    ],
)
async def test_malformed_input_is_refused_with_the_reason_and_nothing_is_added(
    db: Database, fields: dict[str, str], reason: str
) -> None:
    with pytest.raises(RegistryError, match=reason):
        await add_version(db, _new(**fields), added_by=MODERATOR, now=T0)
    assert await all_versions(db) == []


async def test_edit_changes_the_given_fields_only(db: Database) -> None:
    await new_version(db)
    edited = await edit_version(
        db, "dreamy:2", VersionEdit(description="now sharper", license_url="http://l.example")
    )
    assert (edited.description, edited.license_url) == ("now sharper", "http://l.example")
    assert edited.license_name == "CreativeML OpenRAIL-M"
    with pytest.raises(RegistryError, match="nothing to change"):
        await edit_version(db, "dreamy:2", VersionEdit())
    with pytest.raises(RegistryError, match="not a known base family"):
        await edit_version(db, "dreamy:2", VersionEdit(family="dalle"))


async def test_the_source_is_fixed_once_a_version_is_released(db: Database) -> None:
    await new_version(db)
    moved = await edit_version(db, "dreamy:2", VersionEdit(source="org/dreamy-final"))
    assert moved.source == "org/dreamy-final"
    await release(db, "dreamy:2", early_access_days=0, now=T0)
    with pytest.raises(RegistryError, match="source can no longer change") as fixed:
        await edit_version(db, "dreamy:2", VersionEdit(source="org/elsewhere"))
    assert fixed.value.hint is RegistryHint.ADD
    assert (await find_version(db, "dreamy:2")).source == "org/dreamy-final"


async def test_an_inpainting_checkpoint_is_named_checked_and_forgotten(
    db: Database, tmp_path: Path
) -> None:
    """A checkpoint's dedicated inpainting checkpoint may change after release (each job
    records the one it ran with); it is checked like a source, and hashed when one file."""
    await new_version(db)
    await release(db, "dreamy:2", early_access_days=0, now=T0)
    named = await edit_version(db, "dreamy:2", VersionEdit(inpaint_source="org/dreamy-inpaint"))
    assert (named.inpaint_source, named.inpaint_sha256) == ("org/dreamy-inpaint", None)
    weights = tmp_path / "inpaint.safetensors"
    save_file({"w": np.zeros(2, dtype=np.float32)}, str(weights))
    hashed = await edit_version(db, "dreamy:2", VersionEdit(inpaint_source=str(weights)))
    assert hashed.inpaint_source == str(weights)
    assert hashed.inpaint_sha256 == hashlib.sha256(weights.read_bytes()).hexdigest()
    with pytest.raises(RegistryError, match="not a model Atelier can use"):
        await edit_version(db, "dreamy:2", VersionEdit(inpaint_source="/nowhere/x.bin"))
    assert (await find_version(db, "dreamy:2")).inpaint_source == str(weights)
    forgotten = await edit_version(db, "dreamy:2", VersionEdit(inpaint_source=""))
    assert (forgotten.inpaint_source, forgotten.inpaint_sha256) == (None, None)


async def test_certify_sets_and_clears_the_mark_with_who_set_it(db: Database) -> None:
    await new_version(db)
    certified = await set_certified(db, "dreamy:2", certified=True, moderator_id=MODERATOR)
    assert (certified.certified, certified.certified_by) == (True, MODERATOR)
    cleared = await set_certified(db, "dreamy:2", certified=False, moderator_id=MODERATOR)
    assert (cleared.certified, cleared.certified_by) == (False, None)


async def test_retire_is_final_and_a_second_retire_says_so(db: Database) -> None:
    await new_version(db)
    retired = await retire(db, "dreamy:2", now=T0)
    assert retired.status is VersionStatus.RETIRED
    assert retired.retired_at == T0
    with pytest.raises(RegistryError, match="already retired"):
        await retire(db, "dreamy:2", now=T0)
    with pytest.raises(RegistryError, match="only an upcoming version can be released"):
        await release(db, "dreamy:2", early_access_days=0, now=T0)


async def test_a_bare_name_finds_the_newest_version_that_is_not_retired(db: Database) -> None:
    await new_version(db, "dreamy:1")
    await new_version(db, "dreamy:2")
    assert (await find_version(db, "dreamy")).version == "2"
    await retire(db, "dreamy:2", now=T0)
    assert (await find_version(db, "dreamy")).version == "1"


async def test_an_unknown_model_or_version_says_what_exists(db: Database) -> None:
    await enter_configured(db, [ConfiguredModel("tiny", "/m/tiny", "1", "")], now=T0)
    await new_version(db, "dreamy:1")
    with pytest.raises(RegistryError, match="there is no model `nope`; available: `tiny`"):
        await find_version(db, "nope")
    with pytest.raises(RegistryError, match="its versions: dreamy:1"):
        await find_version(db, "dreamy:9")
    with pytest.raises(RegistryError, match="no version after the colon"):
        await find_version(db, "dreamy:")


async def test_a_queued_job_runs_on_the_released_version_it_names_also_once_retired(
    db: Database,
) -> None:
    await enter_configured(db, [ConfiguredModel("dreamy", "org/d1", "1", "")], now=T0)
    await new_version(db, "dreamy:2")  # upcoming: never queued, never run
    assert (await runnable_version(db, "dreamy:1")) == await find_version(db, "dreamy:1")
    assert await runnable_version(db, "dreamy:2") is None
    assert (await runnable_version(db, "Dreamy")).key == "dreamy:1"  # from before the registry
    await retire(db, "dreamy:1", now=T0)
    assert (await runnable_version(db, "dreamy:1")).key == "dreamy:1"  # queued before that
    assert await runnable_version(db, "dreamy") is None
    for unknown in ("ghost", "dreamy:9", "dreamy:", ""):
        assert await runnable_version(db, unknown) is None


async def test_configured_models_are_entered_once_and_a_new_source_is_a_new_version(
    db: Database,
) -> None:
    configured = [
        ConfiguredModel("Tiny", "/models/tiny", "1.5", "openrail"),
        ConfiguredModel("other", "org/other", "1", ""),
    ]
    added = await enter_configured(db, configured, now=T0)
    assert [(v.key, v.status, v.license_name) for v in added] == [
        ("tiny:1.5", VersionStatus.AVAILABLE, "openrail"),
        ("other:1", VersionStatus.AVAILABLE, ""),
    ]
    assert await enter_configured(db, configured, now=T0) == []  # a restart adds nothing
    # The operator points "other" at new weights whose card states no new version.
    (moved,) = await enter_configured(
        db, [ConfiguredModel("other", "org/other-2", "1", "")], now=T0
    )
    assert moved.key == "other:2"
    assert (await find_version(db, "other")).source == "org/other-2"


async def test_images_made_counts_each_version_and_old_bare_name_jobs_for_the_model(
    db: Database,
) -> None:
    async def job_with_images(model: str, count: int) -> None:
        async with db.transaction() as conn:
            job_id = await insert_job(
                conn,
                kind=JobKind.IMAGINE,
                owner_id=1,
                prompt="p",
                params={},
                model=model,
                created_at=T0,
            )
            await insert_images(
                conn, [ImageRecord(job_id, i, f"/x/{i}.png", i, 64, 64) for i in range(count)]
            )

    await job_with_images("dreamy:1", 4)
    await job_with_images("dreamy:2", 4)
    await job_with_images("dreamy:2", 1)
    await job_with_images("dreamy", 4)  # made before the registry: no version
    await job_with_images("tiny:1", 4)
    counts = await images_made(db)
    assert counts.by_model == {"dreamy": 13, "tiny": 4}
    assert counts.by_version == {"dreamy:1": 4, "dreamy:2": 5, "tiny:1": 4}
