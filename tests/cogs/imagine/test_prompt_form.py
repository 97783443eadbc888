"""The prompt form (Remix, Custom Zoom) as Discord receives it."""

from __future__ import annotations

import pytest

from cogs.imagine.buttons import Action, Press
from cogs.imagine.prompt_form import FORM_PREFIX, PROMPT_INPUT, REMIXABLE, prompt_form

FORMS = sorted(REMIXABLE | {Action.CUSTOM_ZOOM})


@pytest.mark.parametrize("action", FORMS)
async def test_each_form_fits_discords_limits_and_names_its_button(action: Action) -> None:
    form = prompt_form(Press(action, 1_234_567_890_123_456_789, 3), "a fox --ar 3:2")
    payload = form.to_dict()
    assert len(payload["title"]) <= 45
    assert payload["custom_id"] == f"{FORM_PREFIX}{action.value}:1234567890123456789:3"
    assert len(payload["custom_id"]) <= 100
    (label,) = payload["components"]
    assert label["component"]["custom_id"] == PROMPT_INPUT
    assert label["component"]["value"] == "a fox --ar 3:2"


async def test_the_form_is_not_kept_in_memory_so_a_restart_loses_nothing() -> None:
    assert prompt_form(Press(Action.CUSTOM_ZOOM, 5, 0), "a fox").is_finished()


async def test_a_prompt_longer_than_discord_prefills_is_cut_at_its_limit() -> None:
    form = prompt_form(Press(Action.VARY_PICK, 5, 0), "x" * 5000).to_dict()
    assert len(form["components"][0]["component"]["value"]) == 4000
