"""Cassette replay for provider tests.

Cassettes live under ``cassettes/<provider>/`` as plain vcrpy YAML. They only replay
(``record_mode="none"``): a request with no recorded match fails the test instead of reaching
the network. Credential and cookie headers are filtered out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vcr

from juggler import Juggler
from juggler.providers import transport

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"

FILTERED_HEADERS = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "set-cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
]


def replay() -> vcr.VCR:
    """A vcrpy instance that replays cassettes from ``cassettes/`` and never records."""
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="none",
        match_on=["method", "host", "path"],
        filter_headers=FILTERED_HEADERS,
        decode_compressed_response=True,
    )


@pytest.fixture(autouse=True)
def httpcore_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cassettes were recorded at httpx's own transport, and vcrpy replays them there: the
    aiohttp transport (the default when the ``fast`` extra is installed) would go through
    vcrpy's aiohttp stub instead, which loses a replayed stream's content type."""
    monkeypatch.setattr(transport, "default_backend", lambda: "httpx")


@pytest.fixture
def cassette() -> vcr.VCR:
    """``with cassette.use_cassette("groq/chat.yaml"): ...``"""
    return replay()


@pytest.fixture
def juggler_for() -> Iterator[Any]:
    """``juggler_for("groq", "llama3-8b-8192")``: a one-target Juggler with a dummy key."""
    made: list[Juggler] = []

    def make(provider: str, model: str, base_url: str | None = None, **settings: Any) -> Juggler:
        config = {"api_key": "test", **({"base_url": base_url} if base_url else {})}
        j = Juggler(chat=[f"{provider}/{model}"], providers={provider: config}, env={}, **settings)
        made.append(j)
        return j

    yield make
    for j in made:
        j.close()
