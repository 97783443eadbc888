"""Midjourney-style prompt parameters: turn what a user typed after /imagine into jobs.

``parse`` takes the raw text (``a {red, blue} car::2 fog --ar 16:9 --no text --repeat 2``),
takes the image URLs off its start (image prompts, Midjourney's way), expands ``{…}``
permutations, splits off the ``--flags`` at the end, reads the LoRA tags
(``<lora:name:0.8>``, ``<lora:name@2>``) out of the text the encoder sees, validates every
value and returns one ``ImagineRequest`` per job. Anything the user must fix raises ``ParamError``
whose message says what was wrong and what would be accepted, ready to show in Discord.

Pure standard library on purpose: the bot validates prompts before anything touches a GPU.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from core.errors import UserFacingError


class ParamError(UserFacingError):
    """A prompt the user must fix. ``str(err)`` is the user-facing message.

    ``flag`` is the flag the error is about as the user wrote it (lowercased, phone dashes
    turned into ``--``, e.g. ``--c`` rather than ``--chaos``), or None when no flag is to blame.
    """

    flag: str | None

    def __init__(self, message: str, flag: str | None = None) -> None:
        super().__init__(message)
        self.flag = flag


SAMPLERS: dict[str, str] = {
    "euler": "Euler",
    "euler_a": "Euler a",
    "dpm++2m": "DPM++ 2M",
    "dpm++2m_karras": "DPM++ 2M Karras",
    "ddim": "DDIM",
    "unipc": "UniPC",
}
DEFAULT_SAMPLER = "dpm++2m_karras"
IMAGES_PER_JOB = 4  # a 2x2 grid


@dataclass(frozen=True)
class PromptPart:
    """One sub-prompt of a multi-prompt; ``weight`` is normalised (a request's weights sum to 1)."""

    text: str
    weight: float


@dataclass(frozen=True)
class ParseLimits:
    """Operator settings that bound what one /imagine may ask for."""

    max_repeat: int = 4
    max_jobs: int = 10
    max_steps: int = 150
    max_prompt_chars: int = 2000
    max_loras: int = 4


#: The most images one job may be conditioned on (image prompts, or /blend's images).
MAX_IMAGES = 5
#: ``--iw``: how much the image prompts count against the text.
MIN_IMAGE_WEIGHT, MAX_IMAGE_WEIGHT = 0.0, 3.0

#: The strength a LoRA may be given.
MIN_LORA_WEIGHT, MAX_LORA_WEIGHT = -2.0, 2.0


@dataclass(frozen=True)
class LoraTag:
    """``<lora:NAME[@VERSION][:WEIGHT]>`` as a member wrote it; the registry says what it
    names. ``weight`` None: the version's default weight."""

    name: str  # lowercased
    version: str | None
    weight: float | None
    text: str  # the tag as written, for messages

    @property
    def spec(self) -> str:
        """``name`` or ``name:version``, as the registry reads it."""
        return self.name if self.version is None else f"{self.name}:{self.version}"


@dataclass(frozen=True)
class ImagineRequest:
    """One job: a validated prompt and its parameters."""

    prompt: str
    parts: tuple[PromptPart, ...]
    negative_prompt: str = ""
    aspect: tuple[int, int] = (1, 1)
    seed: int | None = None
    chaos: int = 0
    stylize: int = 100
    quality: float = 1.0
    stop: int = 100
    tile: bool = False
    model: str | None = None
    steps: int | None = None
    sampler: str | None = None
    loras: tuple[LoraTag, ...] = ()
    #: A CFG scale a model's creator recommends; ``--stylize`` given by the member wins.
    guidance: float | None = None
    #: The recommended settings that applied (setting → value as text), recorded with the
    #: job so it stays explainable if the recommendation changes later.
    recommended: tuple[tuple[str, str], ...] = ()
    #: Image prompts: the URLs at the start of the prompt, as typed (attachments and
    #: /blend's images come in beside the text, not in it). What a job was conditioned on
    #: is the job's ``image_prompts``: the checked copies the studio made of these.
    image_urls: tuple[str, ...] = ()
    #: ``--iw``: how strongly the image prompts count against the text, 0 to 3.
    image_weight: float = 1.0

    @property
    def guidance_scale(self) -> float:
        """The classifier-free guidance scale: a recommended one, or what ``stylize``
        stands for."""
        return self.guidance if self.guidance is not None else stylize_to_guidance(self.stylize)

    def total_steps(self, default_steps: int) -> int:
        """Denoising steps to run: ``--steps`` (or the operator's default) scaled by ``--q``."""
        base = default_steps if self.steps is None else self.steps
        return max(1, round(base * self.quality))

    def to_params(self) -> dict[str, Any]:
        """Everything about the request as a JSON-safe dict (what the database stores)."""
        return {
            "prompt": self.prompt,
            "parts": [{"text": part.text, "weight": part.weight} for part in self.parts],
            "negative_prompt": self.negative_prompt,
            "aspect": list(self.aspect),
            "seed": self.seed,
            "chaos": self.chaos,
            "stylize": self.stylize,
            "quality": self.quality,
            "stop": self.stop,
            "tile": self.tile,
            "model": self.model,
            "steps": self.steps,
            "sampler": self.sampler,
            "loras": [
                {"name": t.name, "version": t.version, "weight": t.weight, "text": t.text}
                for t in self.loras
            ],
            "guidance": self.guidance,
            "recommended": dict(self.recommended),
            "image_urls": list(self.image_urls),
            "image_weight": self.image_weight,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ImagineRequest:
        """The inverse of ``to_params``.

        Keys other than ``prompt`` and ``parts`` may be missing and then take their defaults,
        so rows stored before a parameter existed still load.
        """
        defaults = cls(prompt="", parts=())
        width, height = params.get("aspect", defaults.aspect)
        return cls(
            prompt=params["prompt"],
            parts=tuple(
                PromptPart(part["text"], float(part["weight"])) for part in params["parts"]
            ),
            negative_prompt=params.get("negative_prompt", defaults.negative_prompt),
            aspect=(int(width), int(height)),
            seed=params.get("seed", defaults.seed),
            chaos=params.get("chaos", defaults.chaos),
            stylize=params.get("stylize", defaults.stylize),
            quality=float(params.get("quality", defaults.quality)),
            stop=params.get("stop", defaults.stop),
            tile=params.get("tile", defaults.tile),
            model=params.get("model", defaults.model),
            steps=params.get("steps", defaults.steps),
            sampler=params.get("sampler", defaults.sampler),
            loras=tuple(
                LoraTag(tag["name"], tag["version"], tag["weight"], tag["text"])
                for tag in params.get("loras", [])
            ),
            guidance=params.get("guidance", defaults.guidance),
            recommended=tuple(params.get("recommended", {}).items()),
            image_urls=tuple(params.get("image_urls", ())),
            image_weight=float(params.get("image_weight", defaults.image_weight)),
        )


def stylize_to_guidance(stylize: int) -> float:
    """Map ``--stylize`` (0 to 1000) to a CFG scale.

    Piecewise linear through (0, 9.0), (100, 7.0), (1000, 3.0): a low stylize follows the prompt
    literally (high CFG), a high one lets the model roam (low CFG), and the default 100 gives the
    customary CFG 7. Values outside 0 to 1000 are clamped rather than extrapolated into nonsense.
    """
    s = min(max(stylize, 0), 1000)
    if s <= 100:
        return 9.0 - 2.0 * s / 100
    return 7.0 - 4.0 * (s - 100) / 900


# ---------------------------------------------------------------------------------------------
# Small helpers for messages and numbers


def _short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, to quote user input in messages."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short_tail(text: str, limit: int = 40) -> str:
    """Like ``_short`` but keeps the end of ``text`` (the part next to what follows)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


_DIGITS = re.compile(r"[0-9]+")
_MAX_INT_DIGITS = 18


def _whole(raw: str) -> int | None:
    """``raw`` as an int if it is plain ASCII decimal digits, else None.

    Numbers with more than 18 significant digits also give None: they exceed every range here,
    and refusing them keeps ``int()`` away from Python's 4300-digit conversion limit.
    """
    if not _DIGITS.fullmatch(raw) or len(raw.lstrip("0")) > _MAX_INT_DIGITS:
        return None
    return int(raw)


def _collapse(text: str) -> str:
    """Whitespace runs collapsed to single spaces, ends stripped."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Permutations: {a, b} expands into separate prompts

_MAX_NESTING = 10


@dataclass(frozen=True)
class _Group:
    """A ``{…}`` group: each option is itself a sequence of text and groups."""

    options: tuple[tuple[_Piece, ...], ...]


_Piece = str | _Group


@dataclass
class _OpenGroup:
    """A group being read: the options finished so far and the sequence it sits in."""

    options: list[tuple[_Piece, ...]]
    outer: list[_Piece]
    start: int


def _strip_option(pieces: list[_Piece]) -> tuple[_Piece, ...]:
    """An option with whitespace around it removed, so ``{red, green}`` gives ``green``."""
    items = list(pieces)
    if items and isinstance(items[0], str):
        items[0] = items[0].lstrip()
    if items and isinstance(items[-1], str):
        items[-1] = items[-1].rstrip()
    return tuple(item for item in items if item != "")


def _parse_braces(text: str) -> tuple[_Piece, ...]:
    r"""Read ``text`` into literal strings and ``{…}`` groups; ``\{``, ``\}``, ``\,`` are literal.

    Iterative (a stack of open groups) so that a long run of ``{`` cannot hit Python's
    recursion limit; the nesting cap keeps the recursive counting and expansion safe too.
    """
    current: list[_Piece] = []
    stack: list[_OpenGroup] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            current.append("".join(literal))
            literal.clear()

    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] in ("{", "}", ","):
            literal.append(text[index + 1])
            index += 2
            continue
        if char == "{":
            flush()
            if len(stack) == _MAX_NESTING:
                raise ParamError(f"braces are nested more than {_MAX_NESTING} deep; simplify them")
            stack.append(_OpenGroup([], current, index))
            current = []
        elif char == "," and stack:
            flush()
            stack[-1].options.append(_strip_option(current))
            current = []
        elif char == "}":
            if not stack:
                raise ParamError(
                    f"unbalanced braces: the '}}' in '{_short_tail(text[: index + 1])}' has no "
                    "matching '{'; write \\} for a literal brace"
                )
            flush()
            group = stack.pop()
            group.options.append(_strip_option(current))
            current = group.outer
            current.append(_Group(tuple(group.options)))
        else:
            literal.append(char)
        index += 1
    if stack:
        raise ParamError(
            f"unbalanced braces: the '{{' in '{_short(text[stack[-1].start :])}' is never "
            "closed; close it with '}' or write \\{ for a literal brace"
        )
    flush()
    return tuple(current)


def _count(pieces: tuple[_Piece, ...]) -> int:
    """How many prompts ``pieces`` expands into, without expanding them."""
    total = 1
    for piece in pieces:
        if isinstance(piece, _Group):
            total *= sum(_count(option) for option in piece.options)
    return total


def _expand(pieces: tuple[_Piece, ...]) -> list[str]:
    """Every prompt ``pieces`` stands for; the first group varies slowest."""
    choices = [
        [piece]
        if isinstance(piece, str)
        else [text for option in piece.options for text in _expand(option)]
        for piece in pieces
    ]
    return ["".join(combination) for combination in itertools.product(*choices)]


# ---------------------------------------------------------------------------------------------
# Multi-prompts: "hot::2 dog" weighs "hot" twice as much as "dog"

_WEIGHT_SEPARATOR = re.compile(r"::(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?")
_MAX_WEIGHT = Decimal(1000)
_MAX_WEIGHT_DECIMALS = 3


def _weight(raw: str) -> Decimal:
    """A ``::`` weight as written, kept exact.

    Weights are bounded (±1000, at most 3 decimals) so that a positive sum is at least 0.001:
    nearly-cancelling weights would otherwise normalise to astronomically large factors.
    """
    value = Decimal(raw)
    decimals = raw.partition(".")[2].rstrip("0")
    if abs(value) > _MAX_WEIGHT or len(decimals) > _MAX_WEIGHT_DECIMALS:
        raise ParamError(
            f"::{_short(raw)}: a weight must be a number from -1000 to 1000 with at most 3 decimals"
        )
    return value


def _split_weighted(prompt: str) -> list[tuple[str, Decimal]]:
    """The ``::``-separated parts of ``prompt`` with their raw weights; empty parts dropped."""
    parts: list[tuple[str, Decimal]] = []
    start = 0
    for match in _WEIGHT_SEPARATOR.finditer(prompt):
        weight = Decimal(1) if match.group(1) is None else _weight(match.group(1))
        parts.append((_collapse(prompt[start : match.start()]), weight))
        start = match.end()
    parts.append((_collapse(prompt[start:]), Decimal(1)))
    return [(text, weight) for text, weight in parts if text]


def _prompt_parts(prompt: str, images: int = 0) -> tuple[PromptPart, ...]:
    """Weighted sub-prompts of ``prompt``, weights normalised to sum to 1. With images to
    go by, no text is needed (a /blend): then one empty part, which the encoder reads as
    "nothing in particular"."""
    parts = _split_weighted(prompt)
    if not parts and images:
        return (PromptPart("", 1.0),)
    if not parts:
        raise ParamError("the prompt is empty: write what to draw before the parameters")
    total = sum((weight for _, weight in parts), Decimal(0))
    if total <= 0:
        raise ParamError(
            f"the multi-prompt weights add up to {total.normalize():f}; they must add up to "
            "more than 0 (negative weights may not outweigh the others)"
        )
    return tuple(PromptPart(text, float(weight / total)) for text, weight in parts)


# ---------------------------------------------------------------------------------------------
# LoRA tags: <lora:name:0.8> as model sites write them

_LORA_TAG = re.compile(r"<lora:([^<>]*)>", re.IGNORECASE)
_LORA_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_LORA_VERSION = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_LORA_WEIGHT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_LORA_RULE = "write <lora:NAME:WEIGHT>, <lora:NAME> or <lora:NAME@VERSION:WEIGHT>"


def _lora_tags(prompt: str, limits: ParseLimits) -> tuple[str, tuple[LoraTag, ...]]:
    """The prompt without its LoRA tags (what the encoder sees), and the tags in order."""
    tags: list[LoraTag] = []
    for match in _LORA_TAG.finditer(prompt):
        tags.append(_lora_tag(match.group(0), match.group(1)))
    if not tags:
        return prompt, ()
    if limits.max_loras == 0:
        raise ParamError(f"{_short(tags[0].text)}: LoRAs are turned off on this bot")
    if len(tags) > limits.max_loras:
        raise ParamError(
            f"this prompt has {len(tags)} LoRA tags; at most {limits.max_loras} per job"
        )
    seen: dict[str, str] = {}
    for tag in tags:
        if tag.name in seen:
            raise ParamError(
                f"{_short(tag.text)}: the LoRA `{tag.name}` is already in the prompt as "
                f"{_short(seen[tag.name])}; keep one"
            )
        seen[tag.name] = tag.text
    return _collapse(_LORA_TAG.sub(" ", prompt)), tuple(tags)


def _lora_tag(text: str, inside: str) -> LoraTag:
    fields = inside.split(":")
    if len(fields) > 2:
        raise ParamError(
            f"{_short(text)}: one weight per LoRA (separate text-encoder and UNet weights are "
            f"not supported); {_LORA_RULE}"
        )
    spec = fields[0].strip().lower()
    name, at, version = spec.partition("@")
    if not _LORA_NAME.fullmatch(name) or (at and not _LORA_VERSION.fullmatch(version)):
        raise ParamError(f"{_short(text)} names no LoRA; {_LORA_RULE}")
    weight: float | None = None
    if len(fields) == 2:
        raw = fields[1].strip()
        rule = f"the weight must be a number from {MIN_LORA_WEIGHT:g} to {MAX_LORA_WEIGHT:g}"
        if not _LORA_WEIGHT.fullmatch(raw):
            raise ParamError(f"{_short(text)}: {rule}")
        weight = float(Decimal(raw))
        if not MIN_LORA_WEIGHT <= weight <= MAX_LORA_WEIGHT:
            raise ParamError(f"{_short(text)}: {rule}")
    return LoraTag(name, version if at else None, weight, text)


# ---------------------------------------------------------------------------------------------
# Flags: each taker reads its value from the words after the flag


_Taker = Callable[[str, list[str], ParseLimits], tuple[Any, int]]
"""(flag as written, words up to the next flag, limits) -> (value, number of words used)."""


def _one_word(flag: str, words: list[str], wanted: str) -> str:
    """The first word after ``flag``; an error describing ``wanted`` when there is none."""
    if not words:
        raise ParamError(f"{flag} needs a value: {wanted}", flag)
    return words[0]


def _whole_number(low: int, high: Callable[[ParseLimits], int]) -> _Taker:
    """A taker for a whole number from ``low`` to ``high(limits)``."""

    def take(flag: str, words: list[str], limits: ParseLimits) -> tuple[int, int]:
        rule = f"a whole number from {low} to {high(limits)}"
        raw = _one_word(flag, words, rule)
        value = _whole(raw)
        if value is None or not low <= value <= high(limits):
            raise ParamError(f"{flag} {_short(raw)}: must be {rule}", flag)
        return value, 1

    return take


_ASPECT = re.compile(r"([0-9]+):([0-9]+)")
_ASPECT_RULE = "both sides must be whole numbers ≥ 1, ratio between 1:4 and 4:1"


def _take_aspect(flag: str, words: list[str], _limits: ParseLimits) -> tuple[tuple[int, int], int]:
    raw = _one_word(flag, words, f"width:height such as 16:9; {_ASPECT_RULE}")
    match = _ASPECT.fullmatch(raw)
    width, height = (_whole(match.group(1)), _whole(match.group(2))) if match else (None, None)
    if not width or not height or width > 4 * height or height > 4 * width:
        raise ParamError(f"{flag} {_short(raw)}: {_ASPECT_RULE}", flag)
    return (width, height), 1


_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_QUALITIES = (Decimal("0.25"), Decimal("0.5"), Decimal(1), Decimal(2))
_QUALITY_RULE = "one of .25, .5, 1, 2"


def _take_quality(flag: str, words: list[str], _limits: ParseLimits) -> tuple[float, int]:
    raw = _one_word(flag, words, _QUALITY_RULE)
    if not _DECIMAL.fullmatch(raw) or Decimal(raw) not in _QUALITIES:
        raise ParamError(f"{flag} {_short(raw)}: must be {_QUALITY_RULE}", flag)
    return float(Decimal(raw)), 1


_IMAGE_WEIGHT_RULE = (
    f"a number from {MIN_IMAGE_WEIGHT:g} to {MAX_IMAGE_WEIGHT:g} (how much the image prompts "
    "count against the text; 1 by default)"
)


def _take_image_weight(flag: str, words: list[str], _limits: ParseLimits) -> tuple[float, int]:
    raw = _one_word(flag, words, _IMAGE_WEIGHT_RULE)
    if not _DECIMAL.fullmatch(raw) or not MIN_IMAGE_WEIGHT <= Decimal(raw) <= MAX_IMAGE_WEIGHT:
        raise ParamError(f"{flag} {_short(raw)}: must be {_IMAGE_WEIGHT_RULE}", flag)
    return float(Decimal(raw)), 1


def _take_tile(_flag: str, _words: list[str], _limits: ParseLimits) -> tuple[bool, int]:
    return True, 0


def _take_model(flag: str, words: list[str], _limits: ParseLimits) -> tuple[str, int]:
    """The model name as written; the registry checks it, not the parser."""
    return _one_word(flag, words, "a model name"), 1


def _squash(name: str) -> str:
    """A sampler name reduced for matching: ``DPM++ 2M Karras`` and ``dpm++2m_karras`` agree."""
    return re.sub(r"[\s_]+", "", name.lower())


_SAMPLER_LOOKUP = {_squash(name): key for key in SAMPLERS for name in (key, SAMPLERS[key])}
_SAMPLER_RULE = "choose one of " + ", ".join(SAMPLERS)


def canonical_sampler(name: str) -> str | None:
    """The key of a sampler written either way (``DPM++ 2M Karras``, ``dpm++2m_karras``)."""
    return _SAMPLER_LOOKUP.get(_squash(name))


_MAX_SAMPLER_WORDS = max(len(name.split()) for name in SAMPLERS.values())


def _take_sampler(flag: str, words: list[str], _limits: ParseLimits) -> tuple[str, int]:
    """A sampler by canonical or display name; display names may span words (``Euler a``)."""
    _one_word(flag, words, _SAMPLER_RULE)
    for used in range(min(_MAX_SAMPLER_WORDS, len(words)), 0, -1):
        key = canonical_sampler(" ".join(words[:used]))
        if key is not None:
            return key, used
    raise ParamError(f"{flag} {_short(words[0])}: unknown sampler; {_SAMPLER_RULE}", flag)


def _take_no(flag: str, words: list[str], _limits: ParseLimits) -> tuple[str, int]:
    """Everything up to the next flag: a comma-separated list of things to avoid, tidied
    into the negative prompt's text (``blur, text``)."""
    items = [item.strip() for item in " ".join(words).split(",")]
    items = [item for item in items if item]
    if not items:
        raise ParamError(
            f"{flag} needs a value: a comma-separated list of things to leave out, "
            f"e.g. {flag} text, watermark",
            flag,
        )
    return ", ".join(items), len(words)


def _fixed(value: int) -> Callable[[ParseLimits], int]:
    return lambda _limits: value


_FLAGS: dict[str, tuple[str, _Taker]] = {
    # name as typed -> (ImagineRequest field, or "repeat"; taker)
    "ar": ("aspect", _take_aspect),
    "aspect": ("aspect", _take_aspect),
    "seed": ("seed", _whole_number(0, _fixed(2**32 - 1))),
    "chaos": ("chaos", _whole_number(0, _fixed(100))),
    "c": ("chaos", _whole_number(0, _fixed(100))),
    "stylize": ("stylize", _whole_number(0, _fixed(1000))),
    "s": ("stylize", _whole_number(0, _fixed(1000))),
    "quality": ("quality", _take_quality),
    "q": ("quality", _take_quality),
    "stop": ("stop", _whole_number(10, _fixed(100))),
    "tile": ("tile", _take_tile),
    "repeat": ("repeat", _whole_number(1, lambda limits: limits.max_repeat)),
    "r": ("repeat", _whole_number(1, lambda limits: limits.max_repeat)),
    "model": ("model", _take_model),
    "steps": ("steps", _whole_number(1, lambda limits: limits.max_steps)),
    "sampler": ("sampler", _take_sampler),
    "no": ("negative_prompt", _take_no),
    "iw": ("image_weight", _take_image_weight),
}
#: Every flag name the parser knows (without dashes): user macros may not shadow them.
FLAG_NAMES = frozenset(_FLAGS)
_CANONICAL_FLAGS = (
    "ar",
    "seed",
    "chaos",
    "stylize",
    "quality",
    "stop",
    "tile",
    "repeat",
    "model",
    "steps",
    "sampler",
    "no",
    "iw",
)

_PHONE_DASH = re.compile(r"(?<!\S)[\u2014\u2013](?=[A-Za-z])")  # em dash, en dash
_FLAG = re.compile(r"(?<!\S)--([A-Za-z]\S*)")


def _unknown_flag(name: str) -> ParamError:
    """An error for ``--name``, suggesting the flag the user probably meant."""
    flag = f"--{_short(name)}"
    for known in sorted(_FLAGS, key=len, reverse=True):
        rest = name[len(known) :]
        if name.startswith(known) and rest[:1] in tuple("0123456789."):
            suggestion = f"--{known} {_short(rest, 20)}"
            return ParamError(f"unknown parameter {flag}: did you mean {suggestion}?", flag)
    close = difflib.get_close_matches(name, _FLAGS, n=1, cutoff=0.6)
    if close:
        return ParamError(f"unknown parameter {flag}: did you mean --{close[0]}?", flag)
    known_list = ", ".join(f"--{known}" for known in _CANONICAL_FLAGS)
    return ParamError(f"unknown parameter {flag}; the parameters are {known_list}", flag)


def _read_flags(text: str, matches: list[re.Match[str]], limits: ParseLimits) -> dict[str, Any]:
    """The values of the flags found at ``matches`` in ``text``, keyed by field, each of the
    type its ``ImagineRequest`` field has (so they mix with defaults of that type); several
    ``--no`` add up to one negative prompt."""
    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        name = match.group(1).lower()
        if name not in _FLAGS:
            raise _unknown_flag(name)
        flag = f"--{name}"
        field, take = _FLAGS[name]
        if field in seen and field != "negative_prompt":
            raise ParamError(f"{flag} is given twice (first as {seen[field]}); keep one", flag)
        seen[field] = flag
        words = text[match.end() : end].split()
        value, used = take(flag, words, limits)
        if words[used:]:
            given = " ".join([flag, *words[:used]])
            raise ParamError(
                f"unexpected text '{_short(' '.join(words[used:]))}' after {_short(given, 60)}: "
                "parameters go at the end of the prompt",
                flag,
            )
        if field == "negative_prompt" and field in values:
            value = f"{values[field]}, {value}"
        values[field] = value
    return values


def parse_flags(flags: str, limits: ParseLimits = ParseLimits()) -> dict[str, Any]:
    """The request fields that ``flags`` set, e.g. ``--ar 3:2 --s 250`` → ``{"aspect": (3, 2),
    "stylize": 250}``: for flags that stand in as defaults (a user's /prefer suffix).
    ``--repeat`` is not a request field and is refused here. Raises ``ParamError``."""
    text = _PHONE_DASH.sub("--", flags.strip())
    matches = list(_FLAG.finditer(text))
    before = text[: matches[0].start()] if matches else text
    if before.strip():
        raise ParamError(f"'{_short(before.strip())}' is not a parameter; give only --flags here")
    values = _read_flags(text, matches, limits)
    if "repeat" in values:
        raise ParamError("--repeat cannot be a default; add it to the prompt itself", "--repeat")
    return values


def _parse_one(
    text: str,
    limits: ParseLimits,
    defaults: Mapping[str, Any],
    *,
    urls: tuple[str, ...],
    images: int,
) -> tuple[ImagineRequest, int]:
    """One expanded prompt as a request, with how many times it is to be repeated;
    ``urls`` are the image URLs taken off the start, ``images`` how many images come with
    the prompt in all (those URLs and the attached ones).

    Problems are reported in reading order: the prompt text first, then each flag.
    """
    text = _PHONE_DASH.sub("--", text)
    matches = list(_FLAG.finditer(text))
    prompt = _collapse(text[: matches[0].start()] if matches else text)
    encoded, loras = _lora_tags(prompt, limits)
    parts = _prompt_parts(encoded, images)
    given = _read_flags(text, matches, limits)
    if "image_weight" in given and not images:
        raise ParamError(
            "--iw weighs image prompts against the text, but this prompt has no image: start "
            "the prompt with image URLs (https://…) or attach images, or leave out --iw",
            "--iw",
        )
    values = {**defaults, **given}
    if "stylize" in given:  # the member's own --stylize wins over a recommended CFG
        values.pop("guidance", None)
    repeat: int = values.pop("repeat", 1)
    request = ImagineRequest(prompt=prompt, parts=parts, loras=loras, image_urls=urls, **values)
    return request, repeat


#: A URL as the first word of a prompt (``<…>`` around it, Discord's way to keep a link
#: from unfurling, allowed). Any scheme is taken, so that intake can say which ones work.
_LEADING_URL = re.compile(r"\s*<?([A-Za-z][A-Za-z0-9+.-]*://[^\s<>]+)>?(?=\s|$)")


def image_urls(text: str) -> tuple[tuple[str, ...], str]:
    """The image URLs at the start of ``text`` (Midjourney's image prompts), and the rest
    of the text: ``"https://a/1.png <https://a/2.png> a fox"`` → ``(("https://a/1.png",
    "https://a/2.png"), "a fox")``. A URL further on is part of the text."""
    urls: list[str] = []
    position = 0
    while (match := _LEADING_URL.match(text, position)) is not None:
        urls.append(match.group(1))
        position = match.end()
    return tuple(urls), text[position:].strip()


def _repeated(request: ImagineRequest, repeat: int) -> list[ImagineRequest]:
    """``repeat`` copies of ``request``.

    With an explicit seed, repeat r starts at seed + 4r: image i of a job uses seed + i, so
    the repeats' images are all distinct yet reproducible. Without one each job draws its own.
    """
    if request.seed is None:
        return [request] * repeat
    return [
        replace(request, seed=(request.seed + IMAGES_PER_JOB * r) % 2**32) for r in range(repeat)
    ]


def _too_many_jobs(jobs: str, limits: ParseLimits) -> ParamError:
    return ParamError(
        f"this prompt would make {jobs} jobs (permutations times --repeat); "
        f"the limit is {limits.max_jobs}"
    )


def parse(
    text: str,
    limits: ParseLimits = ParseLimits(),
    defaults: Mapping[str, Any] | None = None,
    *,
    attached: int = 0,
) -> list[ImagineRequest]:
    """Parse a /imagine prompt into its jobs: permutations times repeats, in order.

    All repeats of the first permutation come first. ``defaults`` gives request fields
    (``stylize``, ``model``) a value for when the prompt does not set them: a user's
    preferences. ``attached``: how many images come beside the text (attachments,
    /blend's images), which with the URLs at its start may make up for having no text,
    and count toward ``MAX_IMAGES``. Raises ``ParamError`` for anything the user must fix.
    """
    if len(text) > limits.max_prompt_chars:
        raise ParamError(
            f"the prompt is {len(text)} characters long; the limit is {limits.max_prompt_chars}"
        )
    urls, text = image_urls(text)
    images = len(urls) + attached
    if images > MAX_IMAGES:
        raise ParamError(
            f"this prompt comes with {images} images (image URLs at its start and attached "
            f"images together); at most {MAX_IMAGES} per job"
        )
    pieces = _parse_braces(text)
    permutations = _count(pieces)
    if permutations > limits.max_jobs:
        raise _too_many_jobs(f"at least {permutations}", limits)
    parsed = [
        _parse_one(expanded, limits, defaults or {}, urls=urls, images=images)
        for expanded in _expand(pieces)
    ]
    jobs = sum(repeat for _, repeat in parsed)
    if jobs > limits.max_jobs:
        raise _too_many_jobs(str(jobs), limits)
    return [job for request, repeat in parsed for job in _repeated(request, repeat)]


def typed_fields(text: str) -> frozenset[str]:
    """The request fields that flags written in ``text`` itself set (``--ar`` → ``aspect``);
    unknown flags are left for :func:`parse` to report."""
    text = _PHONE_DASH.sub("--", text)
    names = (match.group(1).lower() for match in _FLAG.finditer(text))
    return frozenset(_FLAGS[name][0] for name in names if name in _FLAGS)


def as_typed(request: ImagineRequest) -> str:
    """``request`` as a member would type it: its image URLs, the prompt, then the flags
    that differ from the defaults (no ``--seed``: what is typed again makes new images).
    Parsing it (with its attached images counted) gives the same request back, seed
    aside."""
    defaults = ImagineRequest(prompt="", parts=())
    flags: list[str] = []
    if request.aspect != defaults.aspect:
        flags.append(f"--ar {request.aspect[0]}:{request.aspect[1]}")
    if request.chaos != defaults.chaos:
        flags.append(f"--chaos {request.chaos}")
    if request.stylize != defaults.stylize:
        flags.append(f"--stylize {request.stylize}")
    if request.quality != defaults.quality:
        flags.append(f"--quality {request.quality:g}")
    if request.stop != defaults.stop:
        flags.append(f"--stop {request.stop}")
    if request.tile:
        flags.append("--tile")
    if request.model is not None:
        flags.append(f"--model {request.model}")
    if request.steps is not None:
        flags.append(f"--steps {request.steps}")
    if request.sampler is not None:
        flags.append(f"--sampler {request.sampler}")
    if request.negative_prompt:
        flags.append(f"--no {request.negative_prompt}")
    if request.image_weight != defaults.image_weight:
        flags.append(f"--iw {request.image_weight:g}")
    return " ".join(word for word in [*request.image_urls, request.prompt, *flags] if word)
