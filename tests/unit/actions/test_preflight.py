"""Consent of the destructive deploy files."""

from __future__ import annotations

import pytest

from tasks.actions.preflight import ConsentError, require_consent
from tasks.settings import load_settings


def test_consent_must_name_the_host():
    with pytest.raises(ConsentError) as error:
        require_consent(load_settings("db-1", {}), "nuke_confirm", "delete the volume")
    assert "--data nuke_confirm=db-1" in str(error.value)
    with pytest.raises(ConsentError):
        require_consent(load_settings("db-1", {"nuke_confirm": "db-2"}), "nuke_confirm", "x")
    require_consent(load_settings("db-1", {"nuke_confirm": "db-1"}), "nuke_confirm", "x")
