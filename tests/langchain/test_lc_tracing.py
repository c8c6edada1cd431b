"""models_used in LangChain traces: run outputs and run metadata, for successful, streamed
and failed chat runs, and for embedding runs (through langsmith's ``trace``)."""

from __future__ import annotations

from typing import Any

import langsmith
import lc_support
import pytest
from langchain_core.runnables import RunnableLambda
from langsmith.run_helpers import tracing_context
from lc_support import RecordingTracer

from juggler import AllProvidersFailedError
from langchain_juggler import ChatJuggler, JugglerEmbeddings


def _providers(used: list[dict[str, Any]]) -> list[str]:
    return [a["provider"] for a in used]


def _output_message(run: Any) -> dict[str, Any]:
    generation = run.outputs["generations"][0][0]
    kwargs: dict[str, Any] = generation["message"]["kwargs"]
    return kwargs


def test_an_invoke_run_has_models_used_in_outputs_and_metadata(
    chat: ChatJuggler, tracer: RecordingTracer
) -> None:
    chat.invoke("hi", config={"callbacks": [tracer]})
    (run,) = tracer.find("llm")
    assert _providers(_output_message(run)["response_metadata"]["models_used"]) == [
        "groq",
        "openai",
    ]
    assert _providers(run.outputs["llm_output"]["models_used"]) == ["groq", "openai"]
    assert _providers(run.metadata["models_used"]) == ["groq", "openai"]


async def test_an_ainvoke_run_has_models_used_in_metadata(
    chat: ChatJuggler, tracer: RecordingTracer
) -> None:
    await chat.ainvoke("hi", config={"callbacks": [tracer]})
    (run,) = tracer.find("llm")
    assert _providers(run.metadata["models_used"]) == ["groq", "openai"]


def test_a_streamed_run_has_models_used_in_outputs_and_metadata(
    chat: ChatJuggler, tracer: RecordingTracer
) -> None:
    list(chat.stream("hi", config={"callbacks": [tracer]}))
    (run,) = tracer.find("llm")
    assert _providers(_output_message(run)["response_metadata"]["models_used"]) == [
        "groq",
        "openai",
    ]
    # Streaming gets no run manager; the served model comes through the gateway channel,
    # which also attributes the run (and its cost) to the model that answered.
    gateway = run.metadata["ls_gateway_info"]
    assert _providers(gateway["models_used"]) == ["groq", "openai"]
    assert run.metadata["ls_model_name"] == "gpt-4o-mini"
    assert run.metadata["ls_provider"] == "openai"


def test_a_failed_run_carries_models_used() -> None:
    tracer = RecordingTracer()
    down = ChatJuggler(
        targets=["groq/llama-3.1-8b-instant"],
        providers=lc_support.providers(),
        env={},
        max_retries=0,
    )
    with pytest.raises(AllProvidersFailedError):
        down.invoke("hi", config={"callbacks": [tracer]})
    (run,) = tracer.find("llm")
    assert run.error is not None and "AllProvidersFailedError" in run.error
    assert _providers(run.metadata["models_used"]) == ["groq"]
    body = _output_message(run)["response_metadata"]["body"]
    assert _providers(body["models_used"]) == ["groq"]
    down.close()


def test_a_run_inside_a_chain_is_tagged_not_its_parent(
    chat: ChatJuggler, tracer: RecordingTracer
) -> None:
    chain = RunnableLambda(lambda text: f"Answer briefly: {text}") | chat
    chain.invoke("hi", config={"callbacks": [tracer]})
    (llm,) = tracer.find("llm")
    assert "models_used" in llm.metadata
    assert all("models_used" not in run.metadata for run in tracer.find("chain"))


class RecordingClient(langsmith.Client):
    """A LangSmith client that keeps the payloads instead of sending them."""

    def __init__(self) -> None:
        super().__init__(api_key="test", api_url="http://127.0.0.1:9", auto_batch_tracing=False)
        self.created: list[dict[str, Any]] = []
        self.updated: list[dict[str, Any]] = []

    def create_run(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.created.append(kwargs)

    def update_run(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        self.updated.append(kwargs)


def test_embedding_calls_become_embedding_runs_with_models_used(
    embeddings: JugglerEmbeddings,
) -> None:
    client = RecordingClient()
    with tracing_context(enabled=True, client=client):
        embeddings.embed_documents(["alpha", "beta"])
    assert [(c["name"], c["run_type"]) for c in client.created] == [
        ("JugglerEmbeddings.embed_documents", "embedding")
    ]
    (update,) = client.updated
    assert _providers(update["outputs"]["models_used"]) == ["together", "selfhosted"]
    assert update["outputs"]["count"] == 2
    assert _providers(update["extra"]["metadata"]["models_used"]) == ["together", "selfhosted"]


async def test_async_embedding_calls_are_traced_too(embeddings: JugglerEmbeddings) -> None:
    client = RecordingClient()
    with tracing_context(enabled=True, client=client):
        await embeddings.aembed_query("alpha")
    (update,) = client.updated
    assert update["outputs"]["count"] == 1


def test_embedding_tracing_is_silent_when_tracing_is_off(embeddings: JugglerEmbeddings) -> None:
    client = RecordingClient()
    with tracing_context(enabled=False, client=client):
        embeddings.embed_query("alpha")
    assert client.created == [] and client.updated == []


def test_an_in_process_tracer_sees_the_answering_model_not_the_first_target(
    chat: ChatJuggler, tracer: RecordingTracer
) -> None:
    chat.invoke("hi", config={"callbacks": [tracer]})
    list(chat.stream("hi", config={"callbacks": [tracer]}))
    for run in tracer.find("llm"):
        assert (run.metadata["ls_provider"], run.metadata["ls_model_name"]) == (
            "openai",
            "gpt-4o-mini",
        )
        assert run.metadata["juggler_chain"] == lc_support.CHAT
        assert _providers(run.metadata["models_used"]) == ["groq", "openai"]


def test_a_streamed_run_reaches_each_handler_once(tracer: RecordingTracer) -> None:
    from langchain_core.callbacks import BaseCallbackHandler

    ends: list[Any] = []

    class Count(BaseCallbackHandler):
        def on_llm_end(self, response: Any, **kwargs: Any) -> None:
            ends.append(response)

    llm = ChatJuggler(**lc_support.chat_params(), callbacks=[Count()])
    list(llm.stream("hi", config={"callbacks": [tracer, Count()]}))
    assert len(ends) == 2 and len(tracer.find("llm")) == 1
    llm.close()
