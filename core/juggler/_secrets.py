"""Keeping API keys out of everything a user can see: error texts, ``models_used``, health,
logs and reprs. :func:`redact` removes the configured keys and anything shaped like a
vendor key, including the masked echo some vendors put in a 401 body."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["redact"]

# Key shapes of the vendors we speak to; a provider sometimes echoes part of a key back.
_KEY_PATTERNS = re.compile(
    # The look-behind keeps words like "task-specific" or "mask-generation" intact.
    r"(?<![A-Za-z0-9_])"
    r"(sk-[A-Za-z0-9_\-*]{6,}|sk-ant-[A-Za-z0-9_\-*]{6,}|gsk_[A-Za-z0-9*]{6,}|AIza[0-9A-Za-z_\-]{10,}"
    r"|nvapi-[A-Za-z0-9_\-*]{6,}|pa-[A-Za-z0-9_\-]{10,}|jina_[A-Za-z0-9]{10,}|csk-[A-Za-z0-9*]{6,})"
)
# "Incorrect API key provided: sk-abc*****2345." (OpenAI's 401): even a masked echo shows the
# key's first and last characters, so whatever follows "API key ...:" is dropped.
_ECHOED_KEY = re.compile(r"(?i)(\bapi[ _-]?key(?: provided)?\s*:\s*)\S+?(?=[.,;]?(?:\s|$))")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove API keys from ``text``: the given secrets, and anything shaped like a vendor key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _ECHOED_KEY.sub(r"\1[redacted]", _KEY_PATTERNS.sub("[redacted]", text))
