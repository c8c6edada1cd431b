"""Keeping API keys out of everything Juggler shows: messages, reprs, logs, exception chains.

A key reaches text in three ways, and each has its guard here:

* a vendor echoes it (or its first characters) in an error body: :func:`redact` removes the
  key itself, any run of :data:`FRAGMENT` or more characters shared with it, and anything
  shaped like a vendor key;
* httpx keeps the ``Request`` (with its ``Authorization`` header) on the exception we chain
  with ``raise ... from exc``: :func:`scrub_exception` strips the credentials from it;
* a key written into a ``base_url`` (``https://user:key@host`` or ``?key=...``) would show in
  reprs: :func:`mask_url` hides it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

__all__ = [
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_PARAMS",
    "FRAGMENT",
    "LogRedactor",
    "mask_url",
    "redact",
    "scrub_exception",
    "scrub_request",
    "secrets_in_url",
]

REDACTED = "[redacted]"
# A vendor quoting "the token 'LEAKCANARYcere...'" shows a prefix, not the whole key: any run
# this long shared with a configured key is removed. Six characters of a random key are
# specific enough that ordinary words do not collide with them.
FRAGMENT = 6
CREDENTIAL_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")
CREDENTIAL_PARAMS = frozenset({"key", "api_key", "apikey", "api-key", "access_token", "token"})

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


def _fragment_spans(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of ``text`` covered by runs of at least FRAGMENT characters found in ``secret``."""
    grams = {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    spans: list[tuple[int, int]] = []
    for i in range(len(text) - FRAGMENT + 1):
        if text[i : i + FRAGMENT] in grams:
            if spans and i <= spans[-1][1]:
                spans[-1] = (spans[-1][0], i + FRAGMENT)
            else:
                spans.append((i, i + FRAGMENT))
    return spans


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove API keys from ``text``: the given secrets, any run of 6+ characters shared with
    one of them, and anything shaped like a vendor key."""
    for secret in secrets:
        if not secret or len(secret) < 4:
            continue
        text = text.replace(secret, REDACTED)
        if len(secret) >= FRAGMENT:
            for start, end in reversed(_fragment_spans(text, secret)):
                text = text[:start] + REDACTED + text[end:]
    return _ECHOED_KEY.sub(r"\1" + REDACTED, _KEY_PATTERNS.sub(REDACTED, text))


def mask_url(url: str, secrets: Iterable[str | None] = ()) -> str:
    """``url`` with a password in its user info and key-like query values replaced."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{REDACTED}@{host}" if ":" in userinfo else f"{REDACTED}@{host}"
        query = "&".join(
            f"{k}={REDACTED}" if k.lower() in CREDENTIAL_PARAMS else f"{k}={v}"
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        )
        url = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        pass
    return redact(url, secrets)


def scrub_request(request: httpx.Request) -> None:
    """Remove credentials from a finished request: auth headers and key query parameters."""
    for name in CREDENTIAL_HEADERS:
        if name in request.headers:
            request.headers[name] = REDACTED
    url = request.url
    if url.userinfo or any(k.lower() in CREDENTIAL_PARAMS for k in url.params):
        params = [
            (k, REDACTED if k.lower() in CREDENTIAL_PARAMS else v)
            for k, v in url.params.multi_items()
        ]
        request.url = url.copy_with(username=None, password=None, params=params)


def scrub_exception(exc: BaseException | None) -> None:
    """Strip credentials from every httpx request held along ``exc``'s cause/context chain."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        request = getattr(exc, "_request", None)
        if isinstance(request, httpx.Request):
            scrub_request(request)
        response = (
            getattr(exc, "response", None) if isinstance(exc, httpx.HTTPStatusError) else None
        )
        if isinstance(response, httpx.Response):
            scrub_request(response.request)
        exc = exc.__cause__ or exc.__context__


def secrets_in_url(url: str) -> list[str]:
    """Credentials written into a URL: the user-info password and key-like query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.username and not parts.password:
        found.append(parts.username)  # https://KEY@host: the key as the user name
    found += [
        v
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() in CREDENTIAL_PARAMS and v
    ]
    return found


class LogRedactor(logging.Filter):
    """Redacts given secrets from log records (httpx logs every request URL at INFO).

    One is attached to the ``httpx`` logger per provider whose ``base_url`` carries a key,
    and removed again when that provider is garbage collected.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without the secrets; never drops a record."""
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, ()
        return True
