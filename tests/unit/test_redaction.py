"""The masking layer: what it masks, and its test-only switch."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from tasks import redaction
from tasks.redaction import MASK, RedactingStream, redact, register_secrets

KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    "short\n"
    "-----END PRIVATE KEY-----\n"
)


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    monkeypatch.setattr(redaction, "_needles", [])
    monkeypatch.delenv(redaction.UNMASKED_VARIABLE, raising=False)
    monkeypatch.setattr(sys, "stdout", sys.stdout)
    monkeypatch.setattr(sys, "stderr", sys.stderr)
    root, pyinfra_logger = logging.getLogger(), logging.getLogger("pyinfra")
    handlers = (list(root.handlers), list(pyinfra_logger.handlers))
    yield
    root.handlers[:], pyinfra_logger.handlers[:] = handlers


def test_registered_secrets_are_masked_whole_and_longest_first():
    register_secrets(["secret-one", "secret-one-and-more", ""])
    assert redact("a secret-one-and-more b secret-one c") == f"a {MASK} b {MASK} c"
    assert redact("nothing here") == "nothing here"


def test_every_long_line_of_a_pem_is_masked_alone_but_not_the_markers():
    register_secrets([KEY])
    assert redact("line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC end") == f"line {MASK} end"
    assert redact("short -----BEGIN PRIVATE KEY-----") == "short -----BEGIN PRIVATE KEY-----"
    assert redact(KEY) == MASK
    assert set(redaction._needles) == {KEY, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"}


def test_a_line_of_exactly_twelve_characters_is_masked():
    register_secrets(["x\n123456789012\n12345678901\n"])
    assert redact("123456789012") == MASK
    assert redact("12345678901") == "12345678901"


def test_streams_and_log_handlers_are_wrapped_once(monkeypatch):
    handler = logging.StreamHandler(io.StringIO())
    logging.getLogger("pyinfra").addHandler(handler)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    register_secrets(["hunter2-is-long"])
    register_secrets(["another-secret"])
    assert isinstance(sys.stdout, RedactingStream)
    assert not isinstance(sys.stdout._inner, RedactingStream)
    assert isinstance(handler.stream, RedactingStream)
    sys.stdout.write("pw hunter2-is-long\n")
    sys.stdout.writelines(["another-secret\n"])
    assert out.getvalue() == f"pw {MASK}\n{MASK}\n"
    assert sys.stdout.write("12345") == 5
    handler.stream.write("x hunter2-is-long")
    assert handler.stream._inner.getvalue() == f"x {MASK}"


def test_the_test_only_switch_turns_masking_off(monkeypatch):
    register_secrets(["hunter2-is-long"])
    monkeypatch.setenv(redaction.UNMASKED_VARIABLE, "1")
    assert redact("hunter2-is-long") == "hunter2-is-long"
    register_secrets(["registered-while-off"])
    monkeypatch.setenv(redaction.UNMASKED_VARIABLE, "0")
    assert redact("hunter2-is-long registered-while-off") == f"{MASK} registered-while-off"
