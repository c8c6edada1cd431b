"""Fixtures of the LlamaIndex adapter tests.

One loopback simulator per module serves every chain, and each chain's first target always
answers 503, so every call proves the fallback. ``recorder`` collects what LlamaIndex's
instrumentation hands to event and span handlers.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import llama_index.core.instrumentation as instrument
import pytest
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.span.simple import SimpleSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from pydantic import PrivateAttr

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
from llamaindex_juggler import JugglerEmbedding, JugglerLLM, JugglerRerank

DOWN = Scenario(error_rates={503: 1.0})
SCENARIOS = {
    "groq": DOWN,
    "openai": Scenario(),
    "nvidia": DOWN,
    "together": Scenario(),
    "cohere": DOWN,
    "jina": Scenario(),
}
CHAT = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]
# Both serve the same weights, so they share one embedding space.
EMBED = ["nvidia/BAAI/bge-base-en-v1.5", "together/BAAI/bge-base-en-v1.5"]
RERANK = ["cohere/rerank-v3.5", "jina/jina-reranker-v2-base-multilingual"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[ProviderSimulator]:
    """The loopback provider simulator: every chain's first target answers 503."""
    with ProviderSimulator(SCENARIOS) as sim:
        yield sim


@pytest.fixture(scope="module")
def juggler(simulator: ProviderSimulator) -> Iterator[Juggler]:
    """A Juggler with the three chains, on the simulator (shared by a module's tests)."""
    j = Juggler(
        chat=CHAT,
        embed=EMBED,
        rerank=RERANK,
        providers=simulator.providers_config(),
        env={},
        retries=0,  # no same-target retries: nothing ever waits
        circuit_breaker=False,  # every call meets the 503 (an open circuit would skip it)
    )
    yield j
    j.close()


@pytest.fixture
def llm(juggler: Juggler) -> JugglerLLM:
    """A JugglerLLM whose first target is down."""
    return JugglerLLM(juggler=juggler)


@pytest.fixture
def embedding(juggler: Juggler) -> JugglerEmbedding:
    """A JugglerEmbedding whose first target is down."""
    return JugglerEmbedding(juggler=juggler)


@pytest.fixture
def rerank(juggler: Juggler) -> JugglerRerank:
    """A JugglerRerank (top 2) whose first target is down."""
    return JugglerRerank(juggler=juggler, top_n=2)


class EventRecorder(BaseEventHandler):
    """Keeps every instrumentation event (a private attribute: pydantic handlers cannot use
    class-level mutable storage)."""

    _events: list[BaseEvent] = PrivateAttr(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "EventRecorder"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        """Record the event."""
        self._events.append(event)

    def of(self, kind: type[BaseEvent]) -> list[Any]:
        """The recorded events of one type."""
        return [e for e in self._events if type(e) is kind]


class SpanRecorder(BaseSpanHandler[SimpleSpan]):
    """Keeps the error of every dropped span and the name of every opened span."""

    _dropped: list[BaseException] = PrivateAttr(default_factory=list)
    _opened: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def class_name(cls) -> str:
        """Class name."""
        return "SpanRecorder"

    def new_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        parent_span_id: str | None = None,
        tags: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> SimpleSpan:
        """Open a span."""
        self._opened[id_] = id_.split("-")[0]
        return SimpleSpan(id_=id_, parent_id=parent_span_id, tags=tags or {})

    def prepare_to_exit_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        result: Any | None = None,
        **kwargs: Any,
    ) -> SimpleSpan | None:
        """Close a span."""
        return self.open_spans.get(id_)

    def prepare_to_drop_span(
        self,
        id_: str,
        bound_args: inspect.BoundArguments,
        instance: Any | None = None,
        err: BaseException | None = None,
        **kwargs: Any,
    ) -> SimpleSpan | None:
        """Record the error that dropped the span."""
        if err is not None:
            self._dropped.append(err)
        return self.open_spans.get(id_)

    @property
    def errors(self) -> list[BaseException]:
        """Errors that dropped spans, in order."""
        return list(self._dropped)

    def name_of(self, span_id: str | None) -> str | None:
        """The ``Class.method`` a span id belongs to."""
        return self._opened.get(span_id or "")


class Recorder:
    """An event recorder and a span recorder on the root dispatcher."""

    def __init__(self) -> None:
        self.events = EventRecorder()
        self.spans = SpanRecorder()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Record instrumentation events and spans for the duration of one test."""
    root = instrument.get_dispatcher()
    rec = Recorder()
    root.add_event_handler(rec.events)
    root.add_span_handler(rec.spans)
    yield rec
    root.event_handlers.remove(rec.events)
    root.span_handlers.remove(rec.spans)
