"""Image prompts and /blend through an IP-Adapter, loaded next to a model on its device.

The adapter is loaded the first time a batch with image prompts needs it, through diffusers'
own ``load_ip_adapter`` (the code that loads a published adapter), and kept: its image
projection and its attention processors, which add attention over image tokens to every
cross-attention layer, plus its image encoder. Between batches they are switched out again
— the UNet gets back its plain attention processors and no image projection — so a batch
without image prompts runs exactly the network it ran before any adapter was loaded (the
same pixels). The adapter counts in the device's VRAM budget like a LoRA.

Conditioning is per row: each job's images are encoded once and its rows get those image
embeddings (several images — a /blend — become several groups of image tokens, attended to
together), with zeros as the classifier-free-guidance negative, as diffusers does. The
adapter's scale is one per call (batches share ``--iw``): ``--iw`` × :data:`SCALE_PER_IW`.
Only the owning worker thread may call these methods.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from diffusers.models.embeddings import ImageProjection
from PIL import Image
from safetensors import safe_open
from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

from core.errors import UserFacingError
from inference.jobs import GenerationJob
from inference.models import IpAdapterRef

log = logging.getLogger(__name__)

#: The IP-Adapter's scale at ``--iw 1``: 0.5 is where published adapters share the image
#: with the text (their authors' advice for image + text prompts); ``--iw 2`` is 1.0, the
#: image alone, and ``--iw 3`` (1.5) pushes past it.
SCALE_PER_IW = 0.5

#: Cross-attention width → the model family an adapter made for it fits.
_FAMILIES = {768: "SD 1.x", 1024: "SD 2.x", 2048: "SDXL"}


class ImagePromptError(UserFacingError):
    """A job's image prompts cannot be used here: no IP-Adapter is configured, it is made
    for another model family, or it cannot be read."""


def adapter_scale(image_weight: float) -> float:
    """The IP-Adapter scale for ``--iw image_weight``."""
    return image_weight * SCALE_PER_IW


def uses_adapter(job: GenerationJob) -> bool:
    """Whether ``job`` runs through the adapter: it has images and ``--iw`` above 0 (at 0 it
    is made from its text alone, pixel for pixel)."""
    return bool(job.image_prompts) and job.request.image_weight > 0


def adapter_file(ref: IpAdapterRef) -> Path:
    """The adapter's file on this machine: the local file, or the hub file fetched into the
    cache (once)."""
    if ref.repo is None:
        path = Path(ref.file).expanduser()
        if not path.is_file():
            raise ImagePromptError(
                f"The IP-Adapter {ref.source} (ATELIER_IP_ADAPTER) does not exist on this machine."
            )
        return path
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(ref.repo, ref.file))


def load_image_encoder(ref: IpAdapterRef, dtype: torch.dtype) -> CLIPVisionModelWithProjection:
    """The adapter's image encoder on the CPU, in ``dtype``."""
    if ref.encoder_repo is None:
        folder = Path(ref.encoder_path).expanduser()
        if not folder.is_dir():
            raise ImagePromptError(
                f"The IP-Adapter's image encoder {folder} does not exist on this machine; "
                "put the encoder's folder there or set ATELIER_IP_ADAPTER_IMAGE_ENCODER."
            )
        return CLIPVisionModelWithProjection.from_pretrained(str(folder), dtype=dtype)
    return CLIPVisionModelWithProjection.from_pretrained(
        ref.encoder_repo, subfolder=ref.encoder_path or None, dtype=dtype
    )


def adapter_shape(path: Path) -> tuple[int, int]:
    """``(cross-attention width, adapted layers)`` of an adapter file, from its header."""
    with safe_open(str(path), framework="pt") as weights:
        keys = [key for key in weights.keys() if key.endswith(".to_k_ip.weight")]  # noqa: SIM118
        if not keys:
            raise ImagePromptError(f"{path.name} is not an IP-Adapter (no to_k_ip weights).")
        width = int(weights.get_slice(keys[0]).get_shape()[-1])
    return width, len(keys)


def adapter_width(ref: IpAdapterRef) -> int | None:
    """The cross-attention width the adapter is made for, from its file's header, without
    downloading anything (a hub file only from the cache); None when that cannot be read
    here and now. Blocking: call it off the event loop."""
    if ref.repo is None:
        path: Path | None = Path(ref.file).expanduser()
    else:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(ref.repo, ref.file)
        path = Path(cached) if isinstance(cached, str) else None
    if path is None or not path.is_file():
        return None
    try:
        return adapter_shape(path)[0]
    except (ImagePromptError, OSError, ValueError):
        return None


def family(width: int) -> str:
    return _FAMILIES.get(width, f"{width}-wide cross-attention")


def check_fits(ref: IpAdapterRef, path: Path, unet: Any, model_name: str) -> None:
    """Refuse an adapter made for another family than the model (its cross-attention width
    or its number of cross-attention layers differ)."""
    width, layers = adapter_shape(path)
    model_width = int(unet.config.cross_attention_dim)
    model_layers = sum(1 for name in unet.attn_processors if not name.endswith("attn1.processor"))
    if (width, layers) != (model_width, model_layers):
        raise ImagePromptError(
            f"Image prompts cannot run on {model_name}: the IP-Adapter {ref.source} is made "
            f"for {family(width)} models ({layers} layers) and {model_name} is a "
            f"{family(model_width)} model ({model_layers} layers); the operator must set "
            "ATELIER_IP_ADAPTER to an adapter of the model's family."
        )


def module_bytes(module: torch.nn.Module) -> int:
    tensors = [*module.parameters(), *module.buffers()]
    return sum(tensor.numel() * tensor.element_size() for tensor in tensors)


class LoadedImageAdapter:
    """The IP-Adapter of one loaded pipeline (none until a batch needs it)."""

    def __init__(
        self,
        pipe: Any,
        ref: IpAdapterRef | None,
        *,
        model_name: str,
        room: Callable[[int], None] | None = None,
    ) -> None:
        self._pipe = pipe
        self._ref = ref
        self._model_name = model_name
        self._room = room  # None: no budget (a backend loaded outside a worker)
        self._encoder: CLIPVisionModelWithProjection | None = None
        self._processor: CLIPImageProcessor | None = None
        self._plain: dict[str, Any] = {}
        self._adapted: dict[str, Any] = {}
        self._projection: torch.nn.Module | None = None
        self._plain_hid_type: str | None = None
        self._active = False

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def weights_bytes(self) -> int:
        """The adapter's and its encoder's weights, while they are switched out of the UNet
        (switched in, the UNet's own count includes the adapter's part)."""
        if self._encoder is None:
            return 0
        total = module_bytes(self._encoder)
        if not self._active and self._projection is not None:
            total += module_bytes(self._projection)
            total += sum(
                module_bytes(processor)
                for processor in self._adapted.values()
                if isinstance(processor, torch.nn.Module)
            )
        return total

    @contextmanager
    def active(self, jobs: Sequence[GenerationJob], *, guided: bool) -> Iterator[dict[str, Any]]:
        """The pipeline arguments that condition ``jobs`` (one batch) on their images, with
        the adapter switched in for the body; nothing, and nothing switched, for jobs
        without image prompts or at ``--iw 0``."""
        lead = jobs[0]
        if lead.image_prompts and self._ref is None:
            raise ImagePromptError(
                "Image prompts need an IP-Adapter, and this worker has none: the operator "
                "must set ATELIER_IP_ADAPTER (see README, The IP-Adapter)."
            )
        if not uses_adapter(lead):
            yield {}
            return
        self._ensure_loaded()
        with torch.no_grad():
            embeds = torch.cat([self._job_embeds(job) for job in jobs], dim=1)
        self._switch(on=True)
        try:
            self._pipe.set_ip_adapter_scale(adapter_scale(lead.request.image_weight))
            yield {"ip_adapter_image_embeds": [embeds.flatten(0, 1) if guided else embeds[1]]}
        finally:
            self._switch(on=False)

    def _job_embeds(self, job: GenerationJob) -> torch.Tensor:
        """``job``'s image embeddings as 2 (negative, positive) × its rows × its images × …:
        encoded once, repeated for each of its images."""
        assert self._encoder is not None
        assert self._processor is not None
        pictures = [_read_rgb(image.path) for image in job.image_prompts]
        pixels = self._processor(images=pictures, return_tensors="pt").pixel_values
        pixels = pixels.to(device=self._encoder.device, dtype=self._encoder.dtype)
        if self._image_states:
            # Plus adapters read the encoder's penultimate hidden states, and an empty
            # image's as the negative (what diffusers' encode_image does).
            positive = self._encoder(pixels, output_hidden_states=True).hidden_states[-2]
            negative = self._encoder(
                torch.zeros_like(pixels), output_hidden_states=True
            ).hidden_states[-2]
        else:
            positive = self._encoder(pixels).image_embeds
            negative = torch.zeros_like(positive)
        pair = torch.stack([negative, positive])  # 2 × images × …
        return pair.unsqueeze(1).expand(2, job.num_images, *positive.shape)

    @property
    def _image_states(self) -> bool:
        layers = getattr(self._projection, "image_projection_layers", [])
        return bool(layers) and not isinstance(layers[0], ImageProjection)

    def _ensure_loaded(self) -> None:
        if self._encoder is not None:
            return
        assert self._ref is not None
        unet = self._pipe.unet
        try:
            path = adapter_file(self._ref)
            check_fits(self._ref, path, unet, self._model_name)
            encoder = load_image_encoder(self._ref, unet.dtype)
            if self._room is not None:
                self._room(path.stat().st_size + module_bytes(encoder))
            encoder.to(unet.device)
            plain, plain_hid_type = dict(unet.attn_processors), unet.config.encoder_hid_dim_type
            self._pipe.load_ip_adapter(
                str(path.parent), subfolder=None, weight_name=path.name, image_encoder_folder=None
            )
        except ImagePromptError:
            raise
        except Exception as error:
            log.debug("loading IP-Adapter %s failed", self._ref.source, exc_info=True)
            gist = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
            raise ImagePromptError(
                f"The IP-Adapter {self._ref.source} could not be loaded: {gist}"
            ) from error
        self._plain, self._plain_hid_type = plain, plain_hid_type
        self._adapted = dict(unet.attn_processors)
        self._projection = unet.encoder_hid_proj
        size: Any = encoder.config.image_size  # the side of the images it was trained on
        self._processor = CLIPImageProcessor(size=size, crop_size=size)
        self._encoder = encoder  # from_pretrained: already in eval mode
        self._switch(on=False)
        log.info("loaded IP-Adapter %s for %s", self._ref.source, self._model_name)

    def _switch(self, *, on: bool) -> None:
        """Put the adapter's processors and image projection into the UNet, or its plain
        ones back."""
        unet = self._pipe.unet
        unet.set_attn_processor(dict(self._adapted if on else self._plain))
        unet.encoder_hid_proj = self._projection if on else None
        unet.config.encoder_hid_dim_type = "ip_image_proj" if on else self._plain_hid_type
        self._active = on


def _read_rgb(path: str) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")
