"""Fixtures of the LangChain adapter tests: one simulator for the whole session, adapters
on it, and a tracer that records runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lc_support
import pytest
from lc_support import RecordingTracer

from langchain_juggler import ChatJuggler, JugglerEmbeddings, JugglerRerank


@pytest.fixture(scope="session", autouse=True)
def simulator() -> Iterator[Any]:
    """The loopback provider simulator, started once and stopped at the end."""
    yield lc_support.start()
    lc_support.stop()


@pytest.fixture
def chat() -> Iterator[ChatJuggler]:
    """A ChatJuggler whose first target is down."""
    model = ChatJuggler(**lc_support.chat_params())
    yield model
    model.close()


@pytest.fixture
def embeddings() -> Iterator[JugglerEmbeddings]:
    """JugglerEmbeddings whose first target is down."""
    emb = JugglerEmbeddings(**lc_support.embed_params())
    yield emb
    emb.close()


@pytest.fixture
def rerank() -> Iterator[JugglerRerank]:
    """A JugglerRerank whose first target is down."""
    rr = JugglerRerank(**lc_support.rerank_params())
    yield rr
    rr.close()


@pytest.fixture
def tracer() -> RecordingTracer:
    """A fresh recording tracer."""
    return RecordingTracer()
