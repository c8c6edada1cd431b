"""What the REAL langsmith client posts for Juggler runs: the model that answered, the chain
that was asked for, and models_used, for invoke, stream, batch, a failed run, an embedding
call and a rerank call.

The client serialises and posts from its background thread to a loopback endpoint that
records the payloads (``langsmith_recorder``); no tracer subclass stands in for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import langsmith
import lc_support
import pytest
from langchain_core.documents import Document
from langchain_core.tracers.langchain import LangChainTracer
from langsmith.run_helpers import tracing_context
from langsmith_recorder import LangSmithRecorder

from juggler import AllProvidersFailedError
from langchain_juggler import ChatJuggler, JugglerEmbeddings, JugglerRerank


@pytest.fixture
def recorder() -> Iterator[LangSmithRecorder]:
    with LangSmithRecorder() as rec:
        yield rec


@pytest.fixture
def client(recorder: LangSmithRecorder) -> Iterator[langsmith.Client]:
    c = langsmith.Client(api_url=recorder.url, api_key="test")
    yield c
    c.flush()


def _tracer(client: langsmith.Client) -> LangChainTracer:
    return LangChainTracer(client=client, project_name="juggler-tests")


def _posted(client: langsmith.Client, tracer: LangChainTracer | None = None) -> None:
    if tracer is not None:
        tracer.wait_for_futures()
    client.flush()


def _providers(used: list[dict[str, Any]]) -> list[str]:
    return [a["provider"] for a in used]


def _meta(run: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = run["extra"]["metadata"]
    return meta


def _served_by_openai(run: dict[str, Any]) -> None:
    meta = _meta(run)
    assert (meta["ls_provider"], meta["ls_model_name"]) == ("openai", "gpt-4o-mini")
    assert _providers(meta["models_used"]) == ["groq", "openai"]
    assert meta["juggler_chain"] == lc_support.CHAT


def test_an_invoke_run_names_the_answering_model_and_the_requested_chain(
    chat: ChatJuggler, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    tracer = _tracer(client)
    chat.invoke("hi", config={"callbacks": [tracer]})
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    _served_by_openai(run)
    params = run["extra"]["invocation_params"]
    assert params["targets"] == lc_support.CHAT and "_type" in params


def test_invocation_params_report_the_sampling_settings(
    client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    llm = ChatJuggler(**lc_support.chat_params(), temperature=0.2, max_tokens=40, top_p=0.9)
    tracer = _tracer(client)
    llm.invoke("hi", config={"callbacks": [tracer]})
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    params = run["extra"]["invocation_params"]
    assert (params["temperature"], params["max_tokens"], params["top_p"]) == (0.2, 40, 0.9)
    llm.close()


def test_a_streamed_run_has_models_used_at_the_top_of_its_metadata(
    chat: ChatJuggler, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    tracer = _tracer(client)
    list(chat.stream("hi", config={"callbacks": [tracer]}))
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    _served_by_openai(run)
    assert _providers(_meta(run)["ls_gateway_info"]["models_used"]) == ["groq", "openai"]


async def test_an_astreamed_run_has_models_used_at_the_top_of_its_metadata(
    chat: ChatJuggler, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    tracer = _tracer(client)
    async for _ in chat.astream("hi", config={"callbacks": [tracer]}):
        pass
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    _served_by_openai(run)


def test_streaming_true_invoke_runs_have_models_used_in_metadata(
    client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    llm = ChatJuggler(**lc_support.chat_params(), streaming=True)
    tracer = _tracer(client)
    llm.invoke("hi", config={"callbacks": [tracer]})
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    _served_by_openai(run)
    llm.close()


def test_every_run_of_a_batch_is_posted_with_its_own_models_used(
    chat: ChatJuggler, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    tracer = _tracer(client)
    chat.batch(["a", "b", "c"], config={"callbacks": [tracer]})
    _posted(client, tracer)
    runs = recorder.find("llm")
    assert len(runs) == 3
    for run in runs:
        _served_by_openai(run)


def test_a_failed_run_is_posted_with_its_error_and_models_used(
    client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    down = ChatJuggler(
        targets=["groq/llama-3.1-8b-instant"],
        providers=lc_support.providers(),
        env={},
        max_retries=0,
    )
    tracer = _tracer(client)
    with pytest.raises(AllProvidersFailedError):
        down.invoke("hi", config={"callbacks": [tracer]})
    _posted(client, tracer)
    (run,) = recorder.find("llm")
    assert "AllProvidersFailedError" in run["error"]
    assert _providers(_meta(run)["models_used"]) == ["groq"]
    down.close()


def test_with_fallbacks_keeps_the_failed_models_models_used(
    client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    down = ChatJuggler(
        targets=["groq/llama-3.1-8b-instant"],
        providers=lc_support.providers(),
        env={},
        max_retries=0,
    )
    backup = ChatJuggler(targets=["openai/gpt-4o-mini"], providers=lc_support.providers(), env={})
    tracer = _tracer(client)
    answer = down.with_fallbacks([backup]).invoke("hi", config={"callbacks": [tracer]})
    assert answer.response_metadata["model_provider"] == "openai"
    _posted(client, tracer)
    failed, answered = sorted(recorder.find("llm"), key=lambda r: r.get("error") is None)
    assert "AllProvidersFailedError" in failed["error"]
    assert "groq/llama-3.1-8b-instant" in failed["error"]  # the attempts, in the error text
    assert _providers(_meta(failed)["models_used"]) == ["groq"]
    body = failed["outputs"]["generations"][0][0]["message"]["kwargs"]["response_metadata"]
    assert _providers(body["body"]["models_used"]) == ["groq"]
    assert _providers(_meta(answered)["models_used"]) == ["openai"]
    down.close()
    backup.close()


def test_an_embedding_call_is_posted_as_an_embedding_run(
    embeddings: JugglerEmbeddings, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    with tracing_context(enabled=True, client=client):
        embeddings.embed_documents(["alpha", "beta"])
    _posted(client)
    (run,) = recorder.find("embedding")
    meta = _meta(run)
    assert _providers(meta["models_used"]) == ["together", "selfhosted"]
    assert meta["ls_provider"] == "selfhosted"
    assert _providers(run["outputs"]["models_used"]) == ["together", "selfhosted"]


def test_a_rerank_call_is_posted_as_a_chain_run_with_models_used(
    rerank: JugglerRerank, client: langsmith.Client, recorder: LangSmithRecorder
) -> None:
    docs = [Document(page_content=t) for t in ("cats purr", "dogs bark", "fish swim")]
    rerank.compress_documents(docs, "what purrs?", callbacks=[_tracer(client)])
    _posted(client)
    (run,) = [r for r in recorder.find("chain") if r["name"] == "JugglerRerank"]
    assert _providers(_meta(run)["models_used"]) == ["voyage", "jina"]
    assert _meta(run)["ls_provider"] == "jina"
    assert _providers(run["outputs"]["models_used"]) == ["voyage", "jina"]
