"""How a setting is declared: a dataclass field carrying its default, meaning and check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tasks.settings.checks import Check

SETTING_KEY = "setting"


@dataclass(frozen=True)
class Setting:
    default: Any
    meaning: str
    check: Check
    secret: bool = False
    name: str = ""


def setting(default: Any, meaning: str, value_check: Check, *, secret: bool = False) -> Any:
    """A field of Settings that is a setting (Settings is only built by load_settings,
    which gives every field its value: the default here is documentation and fallback)."""
    return field(metadata={SETTING_KEY: Setting(default, meaning, value_check, secret)})
