"""
A last line of defence for secrets in output.

The deploy never puts a secret where pyinfra prints: not in commands, not in operation
arguments, not in diffs, not in facts. But pyinfra and Docker print what they are given
(a failing command's stderr, container logs), so every secret this run knows is also
masked in anything written to stdout, stderr and the log handlers' streams.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable
from typing import Any, TextIO

MASK = "*MASKED*"
# Lines of multi-line secrets (PEM keys) are masked one by one too; shorter lines
# ("-----END PUBLIC KEY-----" aside) would mask ordinary words.
_MIN_FRAGMENT = 12
_PUBLIC_PEM_MARKERS = ("-----BEGIN", "-----END")

# TEST ONLY: with PRISMA_TEST_UNMASKED=1 nothing is masked, so that the leak tests show
# no secret reaches the output in the first place. Never set it outside the tests.
UNMASKED_VARIABLE = "PRISMA_TEST_UNMASKED"

_lock = threading.Lock()
_needles: list[str] = []


def masking_on() -> bool:
    return os.environ.get(UNMASKED_VARIABLE) != "1"


def _fragments(value: str) -> set[str]:
    pieces = {value}
    for line in value.splitlines():
        line = line.strip()
        if len(line) >= _MIN_FRAGMENT and not line.startswith(_PUBLIC_PEM_MARKERS):
            pieces.add(line)
    return {piece for piece in pieces if piece}


def register_secrets(values: Iterable[str]) -> None:
    """Mask these values from now on in everything this process prints."""
    global _needles
    if not masking_on():
        return
    with _lock:
        needles = set(_needles)
        for value in values:
            needles |= _fragments(value)
        # Longest first, so a value containing another is masked whole.
        _needles = sorted(needles, key=len, reverse=True)
    _install()


def redact(text: str) -> str:
    if not masking_on():
        return text
    for needle in _needles:
        if needle in text:
            text = text.replace(needle, MASK)
    return text


class RedactingStream:
    """A text stream that masks registered secrets in everything written to it."""

    def __init__(self, inner: TextIO):
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _wrapped(stream: Any) -> Any:
    if stream is None or isinstance(stream, RedactingStream):
        return stream
    return RedactingStream(stream)


def _install() -> None:
    sys.stdout = _wrapped(sys.stdout)
    sys.stderr = _wrapped(sys.stderr)
    loggers = [logging.getLogger(), logging.getLogger("pyinfra")]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(_wrapped(handler.stream))
