"""The README's settings table, generated from the catalogue so the two cannot drift."""

from __future__ import annotations

import json
from typing import Any

from tasks.settings.catalogue import SETTINGS


def _shown(value: Any) -> str:
    return "None" if value is None else f"`{json.dumps(value)}`"


def settings_table() -> str:
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {_shown(s.default)} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)
