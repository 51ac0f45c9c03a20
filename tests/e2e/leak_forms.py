"""Every form a secret can take in output, for the leak suite's grep: as given, as
Compose's .env and compose file escape it, as JSON escapes it, as a shell quotes it, and
each long line of a multi-line secret (a PEM key) on its own."""

from __future__ import annotations

import json
import shlex

from tasks.stack.envfile import quote_env_value

MIN_LINE = 12


def forms(secret: str) -> set[str]:
    found = {
        secret,
        quote_env_value(secret)[1:-1],
        secret.replace("$", "$$"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        shlex.quote(secret),
    }
    for line in secret.splitlines():
        line = line.strip()
        if len(line) >= MIN_LINE and not line.startswith("-----"):
            found.add(line)
    return {form for form in found if form}
