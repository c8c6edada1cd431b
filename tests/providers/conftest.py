"""Cassette replay for provider tests.

Cassettes live under ``cassettes/<provider>/`` as plain vcrpy YAML. They only replay
(``record_mode="none"``): a request with no recorded match fails the test instead of reaching
the network. Credential and cookie headers are filtered out.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import vcr

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


@pytest.fixture
def cassette() -> vcr.VCR:
    """``with cassette.use_cassette("groq/chat.yaml"): ...``"""
    return replay()
