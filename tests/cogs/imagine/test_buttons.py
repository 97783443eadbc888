"""Button custom_ids (which must survive a restart) and the button rows under each message."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from cogs.imagine.buttons import (
    PAN_ARROWS,
    Action,
    AtelierButton,
    Press,
    Reworks,
    appeal_view,
    cancel_view,
    custom_id,
    grid_view,
    parse_custom_id,
    upscale_view,
)


def _rows(view: discord.ui.View) -> list[list[dict[str, Any]]]:
    """The view as Discord receives it: action rows of button payloads."""
    return [row["components"] for row in view.to_components()]


def _ids(view: discord.ui.View) -> list[str]:
    return [button.get("custom_id", "") for row in _rows(view) for button in row]


# --- custom ids ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize(("target_id", "index"), [(1, 0), (42, 3), (1_234_567_890_123_456_789, 2)])
def test_every_action_round_trips_through_its_custom_id(
    action: Action, target_id: int, index: int
) -> None:
    text = custom_id(action, target_id, index)
    assert text == f"atelier:{action.value}:{target_id}:{index}"
    assert len(text) <= 100  # Discord's limit for a custom_id
    assert parse_custom_id(text) == Press(action, target_id, index)


def test_the_index_defaults_to_0() -> None:
    assert custom_id(Action.REROLL, 9) == "atelier:reroll:9:0"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "atelier",
        "other:u:12:0",  # another bot's prefix
        "Atelier:u:12:0",
        "atelier:zz:12:0",  # no such action
        "atelier:zoom3:12:0",
        "atelier:2zoom:12:0",  # an action starts with a letter
        "atelier:U:12:0",
        "atelier:u:12:4",  # a grid has images 0 to 3
        "atelier:u:12:-1",
        "atelier:u:0:0",  # ids start at 1
        "atelier:u:012:0",
        "atelier:u:-5:0",
        "atelier:u:12",  # a part missing
        "atelier:u::0",
        "atelier:u:12:0:7",  # a part too many
        "atelier:u:12:0 ",
        "atelier:u:12:0\n",
        " atelier:u:12:0",
        "atelier:u:12345678901234567890:0",  # 20 digits: more than a Discord id has
        "atelier:u:1.5:0",
        "atelier:u:١٢:0",  # Arabic-Indic digits
    ],
)
def test_a_malformed_custom_id_names_no_press(text: str) -> None:
    assert parse_custom_id(text) is None


# --- views ---------------------------------------------------------------------------------


async def test_a_grid_has_u1_to_u4_and_reroll_then_v1_to_v4() -> None:
    view = grid_view(12)
    assert view.timeout is None  # the buttons work for as long as the message exists
    first, second = _rows(view)
    assert [b.get("label") for b in first] == ["U1", "U2", "U3", "U4", None]
    assert first[4]["emoji"]["name"] == "🔄"
    assert [b["custom_id"] for b in first] == [
        "atelier:u:12:0",
        "atelier:u:12:1",
        "atelier:u:12:2",
        "atelier:u:12:3",
        "atelier:reroll:12:0",
    ]
    assert [b["label"] for b in second] == ["V1", "V2", "V3", "V4"]
    assert [b["custom_id"] for b in second] == [f"atelier:v:12:{i}" for i in range(4)]


async def test_every_button_of_a_grid_parses_back_to_its_press() -> None:
    view = grid_view(77)
    presses = [parse_custom_id(text) for text in _ids(view)]
    assert presses == [
        *(Press(Action.UPSCALE_PICK, 77, i) for i in range(4)),
        Press(Action.REROLL, 77, 0),
        *(Press(Action.VARY_PICK, 77, i) for i in range(4)),
    ]
    assert [item.press for item in view.children if isinstance(item, AtelierButton)] == presses


EVERY_PAN = list(PAN_ARROWS)


def _labels(view: discord.ui.View) -> list[list[str]]:
    """Each row's buttons: the label, or the emoji of a button without one."""
    return [[b.get("label") or b["emoji"]["name"] for b in row] for row in _rows(view)]


async def test_an_upscale_has_midjourneys_rows_of_rework_buttons() -> None:
    view = upscale_view(5, Reworks(upscale=True, square=True, pans=EVERY_PAN))
    assert _labels(view) == [
        ["Vary (Subtle)", "Vary (Strong)", "Upscale (Subtle)", "Upscale (Creative)"],
        ["Zoom Out 2×", "Zoom Out 1.5×", "Custom Zoom", "Make Square"],
        ["⬅️", "➡️", "⬆️", "⬇️"],
        ["Favorite", "Web/Info"],
    ]
    assert _ids(view) == [
        "atelier:subtle:5:0",
        "atelier:strong:5:0",
        "atelier:upsubtle:5:0",
        "atelier:upcreative:5:0",
        "atelier:zoom2:5:0",
        "atelier:zoom15:5:0",
        "atelier:zoomc:5:0",
        "atelier:square:5:0",
        "atelier:panleft:5:0",
        "atelier:panright:5:0",
        "atelier:panup:5:0",
        "atelier:pandown:5:0",
        "atelier:fav:5:0",
        "atelier:info:5:0",
    ]


async def test_an_upscale_gets_only_the_reworks_its_image_allows() -> None:
    # Square, too large to upscale again, and only wide enough to pan up or down.
    view = upscale_view(5, Reworks(upscale=False, square=False, pans=[Action.PAN_UP]))
    assert _labels(view) == [
        ["Vary (Subtle)", "Vary (Strong)"],
        ["Zoom Out 2×", "Zoom Out 1.5×", "Custom Zoom"],
        ["⬆️"],
        ["Favorite", "Web/Info"],
    ]
    for gone in ("upsubtle", "upcreative", "upscale", "square", "panleft"):
        assert f"atelier:{gone}:5:0" not in _ids(view)


async def test_every_button_fits_discords_limits_with_region_web_and_every_extra() -> None:
    """The worst case: every rework offered, Vary (Region) and the web page's link, and
    as many buttons from other features as Atelier leaves room for."""
    extra = [
        discord.ui.Button[discord.ui.View](label=f"Extra {n}", custom_id=f"extra:{n}")
        for n in range(8)
    ]
    view = upscale_view(
        5,
        Reworks(upscale=True, square=True, pans=EVERY_PAN),
        page="https://a.example/jobs/5",
        region=True,
        extra=extra,
    )
    rows = _labels(view)
    assert len(rows) <= 5
    assert all(len(row) <= 5 for row in rows)
    assert sum(map(len, rows)) == 15 + 8
    assert rows[0] == [
        "Vary (Subtle)",
        "Vary (Strong)",
        "Vary (Region)",
        "Upscale (Subtle)",
        "Upscale (Creative)",
    ]
    assert rows[3][:2] == ["Favorite", "Web"]
    assert rows[3][2:] + rows[4] == [f"Extra {n}" for n in range(8)]
    assert all(len(text) <= 100 for text in _ids(view) if text)


async def test_every_rework_button_parses_back_to_its_press() -> None:
    view = upscale_view(77, Reworks(upscale=True, square=True, pans=EVERY_PAN))
    presses = [parse_custom_id(text) for text in _ids(view)]
    assert None not in presses
    assert {press.action for press in presses if press is not None} == {
        action for action in Action if action not in _NOT_UNDER_AN_UPSCALE
    }


#: Actions offered elsewhere (under a grid, while running, on a refusal), or no longer
#: offered (Upscale 2×, replaced by Upscale (Subtle)/(Creative); still answered).
_NOT_UNDER_AN_UPSCALE = {
    Action.UPSCALE_PICK,
    Action.VARY_PICK,
    Action.REROLL,
    Action.CANCEL,
    Action.APPEAL,
    Action.UPSCALE,
    Action.VARY_REGION,  # offered only where the web editor can be reached
}


async def test_cancel_and_appeal_buttons_name_their_target() -> None:
    (cancel,) = _ids(cancel_view(8))
    assert parse_custom_id(cancel) == Press(Action.CANCEL, 8, 0)
    (appeal,) = _rows(appeal_view(31))[0]
    assert appeal["label"] == "Appeal to moderators"
    assert parse_custom_id(appeal["custom_id"]) == Press(Action.APPEAL, 31, 0)


async def test_a_malformed_atelier_button_is_still_an_atelier_button_without_a_press() -> None:
    button = AtelierButton("atelier:u:12:9")
    assert button.custom_id == "atelier:u:12:9"
    assert button.press is None


async def test_vary_region_is_offered_only_where_the_web_editor_can_be_reached() -> None:
    every = Reworks(upscale=True, square=True, pans=EVERY_PAN)
    with_editor = upscale_view(5, every, region=True)
    assert _labels(with_editor)[0][:3] == ["Vary (Subtle)", "Vary (Strong)", "Vary (Region)"]
    assert "atelier:region:5:0" in _ids(with_editor)
    assert "atelier:region:5:0" not in _ids(upscale_view(5, every))
