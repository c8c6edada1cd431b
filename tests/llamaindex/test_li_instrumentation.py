"""models_used reaches LlamaIndex instrumentation, and each call fires its events once."""

from __future__ import annotations

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, CBEventType, EventPayload
from llama_index.core.callbacks.base_handler import BaseCallbackHandler
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
)
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.schema import NodeWithScore, TextNode

from juggler import AllProvidersFailedError
from llamaindex_juggler import (
    JugglerEmbedding,
    JugglerLLM,
    JugglerRerank,
    ModelsUsedEvent,
)

from .conftest import Recorder

HI = [ChatMessage(role="user", content="hi")]
DEAD = ["groq/llama-3.1-8b-instant"]  # the target that always answers 503


def providers(used: list[dict]) -> list[str]:
    return [a["provider"] for a in used]


def test_an_event_handler_sees_models_used_in_llm_chat_end(
    llm: JugglerLLM, recorder: Recorder
) -> None:
    llm.chat(HI)
    (end,) = recorder.events.of(LLMChatEndEvent)
    assert providers(end.response.additional_kwargs["models_used"]) == ["groq", "openai"]


async def test_achat_fires_chat_events_once(llm: JugglerLLM, recorder: Recorder) -> None:
    await llm.achat(HI)
    assert len(recorder.events.of(LLMChatStartEvent)) == 1
    assert len(recorder.events.of(LLMChatEndEvent)) == 1


def test_complete_fires_completion_events_only(llm: JugglerLLM, recorder: Recorder) -> None:
    llm.complete("hi")
    assert recorder.events.of(LLMChatStartEvent) == []
    assert recorder.events.of(LLMChatEndEvent) == []
    assert len(recorder.events.of(LLMCompletionStartEvent)) == 1
    (end,) = recorder.events.of(LLMCompletionEndEvent)
    assert providers(end.response.additional_kwargs["models_used"]) == ["groq", "openai"]


async def _drain(result: object) -> None:
    """Await a coroutine and/or exhaust a (async) generator."""
    if hasattr(result, "__await__"):
        result = await result  # type: ignore[misc]
    if hasattr(result, "__aiter__"):
        _ = [c async for c in result]  # type: ignore[attr-defined]
    elif hasattr(result, "__next__"):
        _ = list(result)  # type: ignore[call-overload]


CHAT_CALLS = ["chat", "achat", "stream_chat", "astream_chat"]
COMPLETION_CALLS = ["complete", "acomplete", "stream_complete", "astream_complete"]


@pytest.mark.parametrize("method", CHAT_CALLS + COMPLETION_CALLS)
async def test_each_method_fires_one_start_and_one_end_event(
    llm: JugglerLLM, recorder: Recorder, method: str
) -> None:
    argument = HI if method in CHAT_CALLS else "hi"
    await _drain(getattr(llm, method)(argument))
    chat = method in CHAT_CALLS
    start, end = (
        (LLMChatStartEvent, LLMChatEndEvent)
        if chat
        else (LLMCompletionStartEvent, LLMCompletionEndEvent)
    )
    other_start, other_end = (
        (LLMCompletionStartEvent, LLMCompletionEndEvent)
        if chat
        else (LLMChatStartEvent, LLMChatEndEvent)
    )
    assert len(recorder.events.of(start)) == len(recorder.events.of(end)) == 1
    assert recorder.events.of(other_start) == recorder.events.of(other_end) == []
    assert len(recorder.events.of(ModelsUsedEvent)) == 1


def test_chat_with_tools_fires_chat_events_once(llm: JugglerLLM, recorder: Recorder) -> None:
    from llama_index.core.tools import FunctionTool

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    llm.chat_with_tools([FunctionTool.from_defaults(add)], user_msg="use the add tool on 1 and 2")
    assert len(recorder.events.of(LLMChatEndEvent)) == 1


def test_stream_end_event_gets_the_last_chunk_with_models_used(
    llm: JugglerLLM, recorder: Recorder
) -> None:
    chunks = list(llm.stream_chat(HI))
    (end,) = recorder.events.of(LLMChatEndEvent)
    assert end.response is chunks[-1]
    assert providers(end.response.additional_kwargs["models_used"]) == ["groq", "openai"]


async def test_astream_complete_end_event_has_models_used(
    llm: JugglerLLM, recorder: Recorder
) -> None:
    _ = [c async for c in await llm.astream_complete("hi")]
    (end,) = recorder.events.of(LLMCompletionEndEvent)
    assert providers(end.response.additional_kwargs["models_used"]) == ["groq", "openai"]


def test_every_llm_call_also_dispatches_one_models_used_event(
    llm: JugglerLLM, recorder: Recorder
) -> None:
    llm.chat(HI)
    (event,) = recorder.events.of(ModelsUsedEvent)
    assert (event.component, event.provider) == ("llm", "openai")
    assert providers(event.models_used) == ["groq", "openai"]


def test_a_span_handler_receives_the_error_with_models_used(
    llm: JugglerLLM, recorder: Recorder
) -> None:
    with pytest.raises(AllProvidersFailedError):
        llm.chat(HI, targets=DEAD)
    errors = [e for e in recorder.spans.errors if isinstance(e, AllProvidersFailedError)]
    assert errors and errors[0].models_used[0].status_code == 503
    (event,) = recorder.events.of(ModelsUsedEvent)
    assert event.success is False


def test_a_failed_stream_reaches_the_exception_event(llm: JugglerLLM, recorder: Recorder) -> None:
    with pytest.raises(AllProvidersFailedError):
        list(llm.stream_chat(HI, targets=DEAD))
    (event,) = recorder.events.of(ExceptionEvent)
    assert event.exception.models_used[0].provider == "groq"


def test_legacy_callback_handlers_get_models_used(juggler) -> None:  # type: ignore[no-untyped-def]
    seen: list[dict] = []

    class Handler(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__([], [])

        def on_event_start(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return ""

        def on_event_end(self, event_type, payload=None, event_id="", **kwargs):  # type: ignore[no-untyped-def]
            if event_type in (CBEventType.LLM, CBEventType.RERANKING) and payload:
                seen.append(payload)

        def start_trace(self, trace_id=None):  # type: ignore[no-untyped-def]
            pass

        def end_trace(self, trace_id=None, trace_map=None):  # type: ignore[no-untyped-def]
            pass

    manager = CallbackManager([Handler()])
    JugglerLLM(juggler=juggler, callback_manager=manager).chat(HI)
    rerank = JugglerRerank(juggler=juggler, callback_manager=manager)
    rerank.postprocess_nodes([NodeWithScore(node=TextNode(text="cats"))], query_str="cats")
    llm_payload, rerank_payload = seen
    assert providers(llm_payload[EventPayload.RESPONSE].additional_kwargs["models_used"]) == [
        "groq",
        "openai",
    ]
    assert providers(rerank_payload["models_used"]) == ["cohere", "jina"]


def test_embedding_models_used_event_is_inside_the_call_span(
    embedding: JugglerEmbedding, recorder: Recorder
) -> None:
    embedding.get_query_embedding("hello")
    (event,) = recorder.events.of(ModelsUsedEvent)
    assert event.component == "embedding"
    assert providers(event.models_used) == ["nvidia", "together"]
    assert recorder.spans.name_of(event.span_id) == "JugglerEmbedding._get_query_embedding"
    assert len(recorder.events.of(EmbeddingEndEvent)) == 1


async def test_a_batch_embedding_dispatches_one_event_per_request(
    embedding: JugglerEmbedding, recorder: Recorder
) -> None:
    await embedding.aget_text_embedding_batch(["a", "b", "c"])
    (event,) = recorder.events.of(ModelsUsedEvent)
    assert event.provider == "together"


def test_rerank_fires_start_end_and_models_used_events(
    rerank: JugglerRerank, recorder: Recorder
) -> None:
    nodes = [NodeWithScore(node=TextNode(text=t)) for t in ("cats", "dogs", "cats and dogs")]
    rerank.postprocess_nodes(nodes, query_str="cats dogs")
    (start,) = recorder.events.of(ReRankStartEvent)
    (end,) = recorder.events.of(ReRankEndEvent)
    (used,) = recorder.events.of(ModelsUsedEvent)
    assert (start.top_n, start.model_name) == (2, "cohere/rerank-v3.5")
    assert len(end.nodes) == 2
    assert (used.component, providers(used.models_used)) == ("rerank", ["cohere", "jina"])
    assert recorder.spans.name_of(used.span_id) == "JugglerRerank._postprocess_nodes"
