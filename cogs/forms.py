"""Reading what a member typed into a form (a modal), straight from the interaction's data.

Atelier's forms are not kept in memory (a form may be submitted after a restart, see
``cogs.funding.pledge_form``): their submissions are read from the raw payload, where each
input sits in an action row or, in newer forms, a label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Discord's component types: an action row, and a label holding one input.
_ACTION_ROW = 1
_LABEL = 18


def submitted_values(components: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Each input's submitted value (text) or values (a select), by custom_id, through
    action rows and labels."""
    values: dict[str, Any] = {}
    for component in components:
        if component.get("type") == _ACTION_ROW:
            values.update(submitted_values(component.get("components", [])))
        elif component.get("type") == _LABEL:
            values.update(submitted_values([component.get("component", {})]))
        elif "custom_id" in component:
            values[component["custom_id"]] = component.get("value", component.get("values"))
    return values
