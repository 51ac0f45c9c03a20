"""One part's share of a deploy, in the same shape for every part: what was read on the
host, what is wanted, and what differs (nothing: the part reports no change)."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

Found = TypeVar("Found")
Wanted = TypeVar("Wanted")


class Work(msgspec.Struct, Generic[Found, Wanted], frozen=True):
    found: Found
    wanted: Wanted
    problems: tuple[str, ...]

    @property
    def needed(self) -> bool:
        return bool(self.problems)
