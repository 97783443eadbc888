"""What moderators type for a model version, checked: names, versions, families, license
links, sources and ``name:version`` specs. Each check returns the normalised value or
raises RegistryError saying what would be accepted."""

from __future__ import annotations

import re

from registry.errors import RegistryError

#: Base families a version may declare (shown to members; the loader detects its own).
FAMILIES = ("sd1", "sd2", "sdxl", "sd3", "flux", "other")

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_VERSION = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
MAX_SOURCE_CHARS = 500
MAX_LICENSE_NAME_CHARS = 100
MAX_URL_CHARS = 500
MAX_DESCRIPTION_CHARS = 1000
_FAMILY_LIST = ", ".join(FAMILIES)


def parse_spec(text: str) -> tuple[str, str | None]:
    """``"Name:V2"`` → ``("name", "v2")``; a bare name → ``(name, None)``."""
    name, colon, version = text.strip().partition(":")
    name = name.strip().lower()
    if not name:
        raise RegistryError(f"`{text}` names no model; write `name` or `name:version`")
    if not colon:
        return name, None
    version = version.strip().lower()
    if not version:
        raise RegistryError(f"`{text}` has no version after the colon; write `name:version`")
    return name, version


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not _NAME.fullmatch(name):
        raise RegistryError(
            f"`{name}` is not a valid model name: use 1–64 characters a–z, 0–9, `.`, `_` "
            "or `-`, starting with a letter or digit"
        )
    return name


def check_version(version: str) -> str:
    version = version.strip().lower()
    if not _VERSION.fullmatch(version):
        raise RegistryError(
            f"`{version}` is not a valid version: use 1–32 characters a–z, 0–9, `.`, `_` "
            "or `-`, starting with a letter or digit (e.g. `2` or `1.5-beta`)"
        )
    return version


def check_family(family: str) -> str:
    family = family.strip().lower()
    if family not in FAMILIES:
        raise RegistryError(f"`{family}` is not a known base family; use one of {_FAMILY_LIST}")
    return family


def check_license_url(url: str) -> str:
    url = url.strip()
    if not re.fullmatch(r"https?://[^\s/]+\S*", url) or len(url) > MAX_URL_CHARS:
        raise RegistryError(
            f"`{url[:80]}` is not a license link: give an http:// or https:// address "
            f"(at most {MAX_URL_CHARS} characters)"
        )
    return url


def check_source(source: str) -> str:
    source = source.strip()
    if not source or len(source) > MAX_SOURCE_CHARS or any(c in source for c in "\n\r\t"):
        raise RegistryError(
            "the source must be a hub id (`org/model`), a local folder or a .safetensors/"
            f".ckpt file, on one line and at most {MAX_SOURCE_CHARS} characters"
        )
    return source


def check_text(value: str, what: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise RegistryError(f"the {what} is {len(value)} characters long; at most {limit}")
    return value


MAX_TRIGGER_WORDS = 20
MAX_TRIGGER_WORD_CHARS = 60
#: The strength a LoRA may be given, in a prompt or as its default weight.
MIN_LORA_WEIGHT, MAX_LORA_WEIGHT = -2.0, 2.0


def split_trigger_words(text: str) -> tuple[str, ...]:
    return tuple(word for word in (part.strip() for part in text.split(",")) if word)


def check_trigger_words(text: str) -> str:
    """Comma-separated words, normalised to ``a, b``."""
    words = split_trigger_words(text)
    if len(words) > MAX_TRIGGER_WORDS or any(len(w) > MAX_TRIGGER_WORD_CHARS for w in words):
        raise RegistryError(
            f"give at most {MAX_TRIGGER_WORDS} trigger words, comma-separated, each at most "
            f"{MAX_TRIGGER_WORD_CHARS} characters"
        )
    return ", ".join(words)


def check_weight(weight: float, what: str) -> float:
    if not MIN_LORA_WEIGHT <= weight <= MAX_LORA_WEIGHT:
        raise RegistryError(
            f"the {what} {weight:g} is out of range: use {MIN_LORA_WEIGHT:g} to {MAX_LORA_WEIGHT:g}"
        )
    return weight
