"""
TEST ONLY, the leak suite's positive control: prints this host's stored secrets on
purpose, in every form the leak grep looks for (tests/e2e/leak_forms.py). Never a deploy
file of the project.
"""

import sys
from pathlib import Path

from pyinfra import host

from tasks.secrets.store import SecretStore, secrets_root

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.e2e.leak_forms import forms

store = SecretStore(secrets_root(), host.name)
for name in sorted(path.name for path in store.path.iterdir() if not path.name.startswith(".")):
    for form in sorted(forms(store.read(name) or "")):
        print(f"on purpose: {name}: {form}")
