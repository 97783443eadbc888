"""The studio's services: start jobs from prompts and buttons, and look them up.

Every job is planned from what the database holds (the parent's stored parameters and
image files), so a button on a message from before a restart works like a fresh one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

from db.database import Database
from db.guilds import banned_words, get_guild_settings
from db.job_messages import JobPlace
from db.jobs import (
    LOCAL_OWNER_ID,
    ImageRecord,
    JobKind,
    JobRecord,
    JobStatus,
    Lane,
    get_job,
    list_images,
    unfinished_child,
)
from db.users import (
    STYLIZE_VALUES,
    Usage,
    VariationStrength,
    get_user_settings,
    usage,
    user_options,
)
from funding.backers import funded_versions_backed_by, has_priority
from inference.jobs import (
    EngineDefaults,
    GenerationJob,
    ImagePrompt,
    plan_imagine,
    plan_reroll,
    plan_upscale,
    plan_variation,
)
from inference.models import ModelRef
from inference.params import ImagineRequest, ParseLimits, parse, parse_flags
from inference.pool.handle import JobHandle
from inference.pool.pool import WorkerPool
from inference.pool.queue import OutputPaths
from intake.fetch import ImageIntake
from registry.access import usable_version
from registry.errors import RegistryError
from registry.versions import ModelKind, ModelVersion, VersionStatus, runnable_version, versions_of
from studio import image_prompts, rework
from studio.errors import StudioError
from studio.loras import (
    UNKNOWN_FAMILY,
    applied,
    as_defaults,
    lora_uses,
    lora_versions,
    recommended_for,
)
from studio.models import RegisteredModels, model_ref
from studio.moderation import matched_words
from studio.preferences import apply_preferences, expand_options
from studio.visibility import check_visible

#: Lineage deeper than this is cut short (a chain of variations of variations…).
MAX_LINEAGE = 20


@dataclass(frozen=True)
class StoredJob:
    """A job from the database with what its buttons need."""

    record: JobRecord
    job: GenerationJob
    images: list[ImageRecord]

    @property
    def id(self) -> int:
        return self.record.id

    def image(self, index: int) -> ImageRecord:
        """Image ``index`` (0-based), whose file must still exist."""
        if self.record.status is not JobStatus.DONE:
            raise StudioError(f"job #{self.id} is {self.record.status.value}; it has no images")
        found = next((image for image in self.images if image.index == index), None)
        if found is None:
            raise StudioError(f"job #{self.id} has no image {index + 1}")
        if not Path(found.path).is_file():
            raise StudioError(f"image {index + 1} of job #{self.id} is no longer stored")
        return found


@dataclass(frozen=True)
class StudioConfig:
    defaults: EngineDefaults
    parse_limits: ParseLimits
    max_upscale_side: int
    #: Whether jobs may start from images (image prompts, /blend): an IP-Adapter is
    #: configured (``ATELIER_IP_ADAPTER``).
    image_prompts: bool = False
    #: The model family the IP-Adapter is made for (as the registry names families; read
    #: from its file at start): image prompts on a model of another family are refused
    #: before anything is queued. ``other``: unknown, any model is tried.
    image_prompt_family: str = UNKNOWN_FAMILY


class Studio:
    # Reworking an upscale and Remix (``studio.rework``), as methods of the Studio.
    can_make_square = rework.can_make_square
    can_pan = rework.can_pan
    remix_text = rework.remix_text
    zoom_out = rework.zoom_out
    custom_zoom = rework.custom_zoom
    pan = rework.pan
    make_square = rework.make_square
    vary_region = rework.vary_region
    upscale_refined = rework.upscale_refined
    remixed = rework.remixed
    resized_for = rework.resized_for
    # Image prompts and /blend (``studio.image_prompts``).
    check_image_prompts = image_prompts.check_image_prompts
    check_upload_size = image_prompts.check_upload_size
    take_images = image_prompts.take_images
    blend_requests = image_prompts.blend_requests

    def __init__(
        self,
        db: Database,
        pool: WorkerPool,
        models: RegisteredModels,
        config: StudioConfig,
        *,
        images_dir: Path,
        clock: Callable[[], datetime],
        intake: ImageIntake | None = None,
    ) -> None:
        self.db = db
        #: Fetches and checks the images members give (None: jobs start from words only).
        self.intake = intake
        self.pool = pool
        self._models = models
        self.config = config
        self._images_dir = images_dir
        self._clock = clock
        self._follow_up_lock = asyncio.Lock()

    @property
    def inputs_dir(self) -> Path:
        """Where the inputs members send with a job (Vary Region's masks, image prompts)
        are kept, beside
        the images folder in the data folder, so a job recovered after a restart finds
        them."""
        return self._images_dir.parent / "inputs"

    @property
    def default_model(self) -> str:
        """The registry's default model: what ``/imagine`` uses without ``--model``."""
        return self._models.default

    # --- /imagine --------------------------------------------------------------------------

    async def requests_for(
        self,
        user_id: int,
        text: str,
        *,
        preferences: bool = True,
        attached: int = 0,
        suffix: bool = True,
    ) -> list[ImagineRequest]:
        """Parse what the user typed, with their suffix, options and defaults applied
        (without ``preferences``, as typed: the CLI's user has none; without ``suffix``,
        all but the suffix). ``attached``: how many images come beside the text.
        Raises ParamError."""
        limits = self.config.parse_limits
        defaults: dict[str, object] = {}
        if preferences:
            prefs = await get_user_settings(self.db, user_id)
            prepared = apply_preferences(
                text,
                suffix=prefs.suffix if suffix else "",
                options=await user_options(self.db, user_id),
            )
            text = prepared.text
            if prefs.stylize is not None:
                defaults["stylize"] = STYLIZE_VALUES[prefs.stylize]
            if prefs.model is not None and await self._known_model(prefs.model):
                defaults["model"] = prefs.model
            if prepared.suffix_flags:
                defaults.update(parse_flags(prepared.suffix_flags, limits))
        return await self._parsed(user_id, text, defaults, attached)

    async def remix_requests(
        self, user_id: int, text: str, *, attached: int = 0
    ) -> list[ImagineRequest]:
        """Parse a remix's edited ``text``: the member's ``/prefer option`` names expanded
        as for ``/imagine``, but neither their suffix nor their preferred defaults added,
        for the text was prefilled from a job's request, which carries them already
        (adding the suffix again would repeat it with each remix). ``attached``: the job's
        images that are not URLs in the text. Raises ParamError."""
        return await self._parsed(
            user_id,
            expand_options(text.strip(), await user_options(self.db, user_id)),
            {},
            attached,
        )

    async def _parsed(
        self, user_id: int, text: str, defaults: dict[str, object], attached: int
    ) -> list[ImagineRequest]:
        requests = parse(text, self.config.parse_limits, defaults, attached=attached)
        return [
            await self._with_recommended(user_id, text, index, request, defaults, attached)
            for index, request in enumerate(requests)
        ]

    async def _with_recommended(
        self,
        user_id: int,
        text: str,
        index: int,
        request: ImagineRequest,
        defaults: dict[str, object],
        attached: int,
    ) -> ImagineRequest:
        """``request`` (job ``index`` of ``text``) with the settings its versions recommend
        where the prompt and the ``/prefer`` defaults leave them open, and which applied.
        Versions the member may not use recommend nothing here: the access check refuses
        them before anything is queued."""
        try:
            model = await self._checkpoint_version(user_id, request.model, moderator=False)
            loras = await lora_versions(
                self.db,
                request.loras,
                model=model,
                granted=await funded_versions_backed_by(self.db, user_id),
                moderator=False,
                now=self._clock(),
            )
        except StudioError:
            return request
        recommended = as_defaults(recommended_for(model, loras))
        if not recommended:
            return request
        if "stylize" in defaults:  # a preferred --stylize wins over a recommended CFG
            recommended.pop("guidance", None)
        with_them = parse(
            text, self.config.parse_limits, {**recommended, **defaults}, attached=attached
        )[index]
        return dataclasses.replace(with_them, recommended=applied(request, with_them))

    async def banned_in(self, guild_id: int | None, texts: Sequence[str]) -> list[str]:
        """The server's banned words that any of ``texts`` contains (none outside servers).
        Each text is searched on its own, so a phrase cannot match across two of them."""
        if guild_id is None:
            return []
        banned = await banned_words(self.db, guild_id)
        found = {word for text in texts for word in matched_words(text, banned)}
        return [word for word in banned if word in found]

    def check_limits(self, user_id: int, count: int = 1) -> None:
        """Refuse (QueueLimitError) before anything is queued if ``count`` more jobs would
        take ``user_id`` past their limits."""
        self.pool.check_limits(user_id, count)

    async def check_model_access(
        self,
        user_id: int,
        requests: Sequence[ImagineRequest],
        *,
        moderator: bool = False,
        images: int = 0,
    ) -> None:
        """Refuse (StudioError) before anything is queued if a request names a model the
        user may not use: unknown, retired, not released, or in early access for others;
        or, with ``images`` (image prompts), a model the IP-Adapter is not made for."""
        for request in requests:
            model = await self._checkpoint_version(user_id, request.model, moderator=moderator)
            await self._lora_versions(user_id, request, model, moderator=moderator)
            image_prompts.check_image_model(self, model, images)

    async def model_for(
        self, user_id: int, name: str | None, *, moderator: bool = False
    ) -> ModelRef:
        """The registry version ``name`` (``model`` or ``model:version``; None: the
        registry's default model) gives ``user_id`` now. Early-access versions are for
        moderators and the backers of their funded campaign."""
        version = await self._checkpoint_version(user_id, name, moderator=moderator)
        if version is None:
            assert self._models.run_only is not None
            return self._models.run_only
        return model_ref(version)

    async def _checkpoint_version(
        self, user_id: int, name: str | None, *, moderator: bool
    ) -> ModelVersion | None:
        """What :meth:`model_for` answers, as the registry's version (None: the CLI's
        run-only model, which is in no registry)."""
        if name is None and self._models.run_only is not None:
            return None
        try:
            return await usable_version(
                self.db,
                name or self._models.default,
                granted=await funded_versions_backed_by(self.db, user_id),
                moderator=moderator,
                now=self._clock(),
            )
        except RegistryError as error:
            raise StudioError(
                f"--model: {error.message}", hint=error.hint, **error.moments
            ) from None

    async def _lora_versions(
        self,
        user_id: int,
        request: ImagineRequest,
        model: ModelVersion | None,
        *,
        moderator: bool,
    ) -> list[ModelVersion]:
        return await lora_versions(
            self.db,
            request.loras,
            model=model,
            granted=await funded_versions_backed_by(self.db, user_id),
            moderator=moderator,
            now=self._clock(),
        )

    async def lane_for(self, user_id: int) -> Lane:
        """Backers of a version in early access use the priority lane while it lasts."""
        priority = await has_priority(self.db, user_id, self._clock())
        return Lane.PRIORITY if priority else Lane.STANDARD

    async def submit_imagine(
        self,
        user_id: int,
        request: ImagineRequest,
        *,
        moderator: bool = False,
        outputs: OutputPaths | None = None,
        place: JobPlace | None = None,
        images: tuple[ImagePrompt, ...] = (),
    ) -> JobHandle:
        """Plan and queue one txt2img job. The first use of a model loads it (slow);
        raises ModelLoadError, StudioError (limits, model access) or PoolClosedError.
        ``outputs``: where its images go instead of the images folder (the CLI's ``--out``);
        ``place``: where it will be shown (recorded with the job); ``images``: what it is
        conditioned on besides the text (:meth:`take_images` made them)."""
        version = await self._checkpoint_version(user_id, request.model, moderator=moderator)
        loras = await self._lora_versions(user_id, request, version, moderator=moderator)
        model = self.model_for_version(version)
        info = await self.pool.model_info(model)
        job = plan_imagine(
            request,
            model=model.name,
            native_size=info.native_size,
            defaults=self.config.defaults,
            loras=lora_uses(request.loras, loras),
            model_hash=None if version is None else version.sha256,
            image_prompts=images,
        )
        return await self._submit(job, user_id, parent=None, outputs=outputs, place=place)

    def model_for_version(self, version: ModelVersion | None) -> ModelRef:
        if version is None:
            assert self._models.run_only is not None
            return self._models.run_only
        return model_ref(version)

    # --- buttons ---------------------------------------------------------------------------

    async def stored_job(self, job_id: int) -> StoredJob:
        record = await get_job(self.db, job_id)
        if record is None:
            raise StudioError(f"job #{job_id} does not exist (any more)")
        try:
            job = GenerationJob.from_params(record.params)
        except (KeyError, TypeError, ValueError):
            raise StudioError(
                f"job #{job_id} was stored in a form this version cannot read"
            ) from None
        return StoredJob(record, job, await list_images(self.db, job_id))

    async def visible_job(self, job_id: int, viewer_id: int, guild_id: int | None) -> StoredJob:
        """Job ``job_id`` if ``viewer_id``, asking in ``guild_id``, may see it
        (``studio.visibility``); JobNotVisibleError, the same for a job that does not exist,
        otherwise."""
        await check_visible(self.db, await get_job(self.db, job_id), job_id, viewer_id, guild_id)
        return await self.stored_job(job_id)

    async def may_press(self, source: StoredJob, user_id: int, guild_id: int | None) -> bool:
        """Generation buttons are the owner's, unless the server lets everyone press them."""
        if source.record.owner_id == user_id:
            return True
        return (
            guild_id is not None
            and (await get_guild_settings(self.db, guild_id)).buttons_for_everyone
        )

    async def reroll(
        self,
        user_id: int,
        source: StoredJob,
        *,
        prompt: str | None = None,
        moderator: bool = False,
        place: JobPlace | None = None,
    ) -> JobHandle:
        """🔄: the same request with a fresh seed (parent index 0: it redoes the whole grid).
        ``prompt``: Remix, the member's edited prompt with its parameters (``--ar`` gives
        a new shape; a rework's re-roll keeps its canvas)."""
        if source.job.kind is JobKind.UPSCALE:
            raise StudioError("an upscale cannot be re-rolled; use Vary on it instead")
        if prompt is None:
            job = await self._with_usable_model(plan_reroll(source.job), user_id, moderator)
        else:
            job = await self.remixed(
                user_id, plan_reroll(source.job), prompt, moderator=moderator, place=place
            )
            if job.rework is None:
                job = await self.resized_for(user_id, job, moderator=moderator)
        return await self._submit(job, user_id, parent=(source.id, 0), place=place)

    async def vary(
        self,
        user_id: int,
        source: StoredJob,
        index: int,
        strength: VariationStrength | None,
        *,
        prompt: str | None = None,
        moderator: bool = False,
        place: JobPlace | None = None,
    ) -> JobHandle:
        """V*n* / Vary: four new images from image ``index``. Without ``strength``, the
        user's preferred one. A variation of an upscale comes back at the original size.
        ``prompt``: Remix, the member's edited prompt with its parameters (the image's
        size stays)."""
        image = source.image(index)
        if strength is None:
            strength = (await get_user_settings(self.db, user_id)).variation
        grid = source
        while grid.job.kind is JobKind.UPSCALE and grid.record.parent_job_id is not None:
            grid = await self.stored_job(grid.record.parent_job_id)
        base = grid.job
        value = (
            self.config.defaults.subtle_strength
            if strength is VariationStrength.SUBTLE
            else self.config.defaults.strong_strength
        )
        job = plan_variation(base, image_path=image.path, strength=value)
        if prompt is None:
            job = await self._with_usable_model(job, user_id, moderator)
        else:
            remixed = await self.remixed(user_id, job, prompt, moderator=moderator, place=place)
            job = plan_variation(remixed, image_path=image.path, strength=value)
        return await self._submit(job, user_id, parent=(source.id, index), place=place)

    def can_upscale(self, source: StoredJob) -> bool:
        """Whether one more 2× stays within the operator's largest side."""
        factor = self.config.defaults.upscale_factor
        return max(source.job.width, source.job.height) * factor <= self.config.max_upscale_side

    def check_upscale(self, source: StoredJob) -> None:
        """Refuse, in words, one more 2× of ``source`` past the largest side allowed."""
        if not self.can_upscale(source):
            raise StudioError(
                f"this image is {source.job.width}×{source.job.height}; upscaling again would "
                f"pass the largest side this server allows ({self.config.max_upscale_side} px)"
            )

    async def upscale(
        self,
        user_id: int,
        source: StoredJob,
        index: int,
        *,
        moderator: bool = False,
        place: JobPlace | None = None,
    ) -> JobHandle:
        """U*n* / Upscale 2×: image ``index`` at twice the size, refined."""
        image = source.image(index)
        self.check_upscale(source)
        job = plan_upscale(
            source.job, index=index, image_path=image.path, defaults=self.config.defaults
        )
        job = await self._with_usable_model(job, user_id, moderator)
        return await self._submit(job, user_id, parent=(source.id, index), place=place)

    async def _with_usable_model(
        self, job: GenerationJob, user_id: int, moderator: bool
    ) -> GenerationJob:
        """A follow-up runs on its parent's model and LoRA versions if the user may still
        use them (a job from before the registry names a bare model: its newest usable
        version)."""
        model = await self.model_for(user_id, job.model, moderator=moderator)
        granted = await funded_versions_backed_by(self.db, user_id)
        for lora in job.loras:
            try:
                await usable_version(
                    self.db,
                    lora.key,
                    granted=granted,
                    moderator=moderator,
                    now=self._clock(),
                    kind=ModelKind.LORA,
                )
            except RegistryError as error:
                raise StudioError(
                    f"<lora:{lora.name}>: {error.message}", hint=error.hint, **error.moments
                ) from None
        return dataclasses.replace(job, model=model.name)

    async def _known_model(self, name: str) -> bool:
        """Whether a stored preference still names a released, unretired model (one that
        was retired since is ignored: the server's default applies)."""
        versions = await versions_of(self.db, name.partition(":")[0])
        released = (VersionStatus.AVAILABLE, VersionStatus.EARLY_ACCESS)
        return any(
            version.status in released and version.kind is ModelKind.CHECKPOINT
            for version in versions
        )

    async def lineage(self, job_id: int) -> list[JobRecord]:
        """The job and its ancestors, oldest first."""
        chain: list[JobRecord] = []
        next_id: int | None = job_id
        while next_id is not None and len(chain) < MAX_LINEAGE:
            record = await get_job(self.db, next_id)
            if record is None:
                break
            chain.append(record)
            next_id = record.parent_job_id
        return chain[::-1]

    def result_file(self, source: StoredJob) -> Path:
        """What a finished job's message shows: the grid, or the single image."""
        paths = OutputPaths.for_job(self._images_dir, source.id, source.job.num_images)
        if paths.grid is not None and paths.grid.is_file():
            return paths.grid
        if source.images:
            return Path(source.images[0].path)
        raise StudioError(f"job #{source.id} has no stored images")

    # --- usage -----------------------------------------------------------------------------

    async def usage(self, user_id: int) -> Usage:
        """Images today (UTC day) and in total, and GPU-seconds."""
        today = datetime.combine(self._clock().astimezone(UTC).date(), time(), tzinfo=UTC)
        return await usage(self.db, user_id, since=today)

    async def _submit(
        self,
        job: GenerationJob,
        user_id: int,
        *,
        parent: tuple[int, int] | None,
        outputs: OutputPaths | None = None,
        place: JobPlace | None = None,
    ) -> JobHandle:
        """Queue ``job``. A follow-up (``parent`` set) is refused while the same user's same
        follow-up of the same image is still waiting or running, so a double click, or two
        presses at the same moment, make one job; the lock makes check and insert one step."""
        image_prompts.check_stored(self, job.image_prompts)
        if job.image_prompts:
            version = await runnable_version(self.db, job.model)
            image_prompts.check_image_model(self, version, len(job.image_prompts))
        async with self._follow_up_lock:
            if parent is not None:
                pending = await unfinished_child(
                    self.db,
                    owner_id=user_id,
                    kind=job.kind,
                    parent_job_id=parent[0],
                    parent_index=parent[1],
                    strength=job.strength,
                    same=_what_makes_it_the_same(job),
                )
                if pending is not None:
                    raise StudioError(
                        f"that is already on its way as job #{pending}; press again once it is done"
                    )
            lane = await self.lane_for(user_id)
            return await self.pool.submit(
                job,
                owner_id=user_id,
                lane=lane,
                parent=parent,
                # The operator's own command-line runs are not held to members' limits.
                enforce_limits=user_id != LOCAL_OWNER_ID,
                outputs=outputs,
                place=place,
            )


def _what_makes_it_the_same(job: GenerationJob) -> dict[str, object]:
    """Besides kind, parent and strength, what a follow-up must share with a waiting one to
    be the same press again: its prompt and ``--iw`` (a remix may change them), its size,
    and a rework's box and mask (zoom 2× and 1.5×, or two pans, of one image are different
    jobs)."""
    same: dict[str, object] = {
        "$.request.prompt": job.request.prompt,
        "$.width": job.width,
        "$.height": job.height,
    }
    if job.rework is not None:
        same["$.rework.box"] = list(job.rework.box)
        same["$.rework.mask_sha256"] = job.rework.mask_sha256
    if job.image_prompts:  # a remix may weigh the images differently
        same["$.request.image_weight"] = job.request.image_weight
    return same
