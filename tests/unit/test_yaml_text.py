"""libyaml's loader and dumper, when present, give what PyYAML's pure-Python safe ones
give: switching between them never rewrites a host's compose file or a CLI entry (nor
reports a change)."""

from __future__ import annotations

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tasks.settings import load_settings
from tasks.stack.compose_file import BASE_FILE, compose_document
from tasks.yaml_text import dump_yaml, load_yaml


def _private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


DOCUMENTS = [
    pytest.param(lambda: compose_document(load_settings("h", {})), id="compose"),
    pytest.param(
        lambda: compose_document(load_settings("h", {"prisma_domain": "p.example.com"})),
        id="compose-https",
    ),
    pytest.param(
        lambda: {
            "clusters": {"h": {"host": "http://[::1]:4466", "clusterSecret": _private_key_pem()}}
        },
        id="cluster-entry",
    ),
    pytest.param(lambda: {"value": "a: b\n'\"$ü #", "empty": None, "list": [1, "2"]}, id="odd"),
]


@pytest.mark.parametrize("make", DOCUMENTS)
def test_the_text_is_pure_pythons_byte_for_byte(make):
    document = make()
    assert dump_yaml(document, width=4096) == yaml.safe_dump(
        document, sort_keys=False, default_flow_style=False, width=4096
    )
    assert dump_yaml(document) == yaml.safe_dump(document, sort_keys=False)


def test_the_base_file_loads_as_pure_python_loads_it():
    text = BASE_FILE.read_text()
    assert load_yaml(text) == yaml.safe_load(text)


def test_the_loader_is_a_safe_one():
    with pytest.raises(yaml.constructor.ConstructorError):
        load_yaml("!!python/object/apply:os.system ['true']")
