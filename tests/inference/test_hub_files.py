"""A file of a hub repository read through the real hub client from its cache, offline;
what cannot be had is refused with a message naming the file and why."""

from __future__ import annotations

import pytest

from inference.hub_files import HubFileError, hub_file
from tests.helpers.hub_cache import FakeHubCache


def test_a_cached_hub_file_is_read_offline(hub_cache: FakeHubCache) -> None:
    hub_cache.put("org/loras", "styles/ink.safetensors", b"the bytes")
    assert hub_file("org/loras", "styles/ink.safetensors").read_bytes() == b"the bytes"


@pytest.mark.parametrize(
    ("repo_id", "filename"),
    [("org/loras", "missing.safetensors"), ("org/absent", "ink.safetensors")],
)
def test_a_hub_file_that_is_not_there_is_refused_naming_it(
    hub_cache: FakeHubCache, repo_id: str, filename: str
) -> None:
    hub_cache.put("org/loras", "ink.safetensors", b"the bytes")
    with pytest.raises(HubFileError) as refused:
        hub_file(repo_id, filename)
    assert refused.value.message == (
        f"`hf://{repo_id}/{filename}` cannot be read: it is not in the Hugging Face cache and "
        "HF_HUB_OFFLINE is set; download it once with a network"
    )


def test_a_malformed_repository_id_is_refused(hub_cache: FakeHubCache) -> None:
    with pytest.raises(HubFileError, match="not a hub repository id and file name"):
        hub_file("org/bad repo", "ink.safetensors")
