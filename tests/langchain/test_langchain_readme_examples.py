"""The README's LangChain examples, run against the simulator.

Each test is the README code with one change: ``providers=`` points every provider at the
simulator (the README reads keys from the environment). Every chain's first target is
down, so each example shows a fallback in its models_used.
"""

from __future__ import annotations

import logging
from typing import Any

import lc_support
import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.outputs import LLMResult
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore
from lc_support import RecordingTracer

from langchain_juggler import ChatJuggler, JugglerEmbeddings, JugglerRerank

SIM: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _simulated_providers() -> None:
    SIM.update(providers=lc_support.providers(), env={})


def test_lcel_chain() -> None:
    llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    chain = ChatPromptTemplate.from_template("Explain {topic} in one sentence.") | llm

    msg = chain.invoke({"topic": "fallback routing"})
    assert msg.response_metadata["model_name"] == "gpt-4o-mini"
    lines = [
        f"{a['provider']}/{a['model']}: {a['outcome']} {a['status_code']}"
        for a in msg.response_metadata["models_used"]
    ]
    assert lines == [
        "groq/llama-3.1-8b-instant: error 503",
        "openai/gpt-4o-mini: success 200",
    ]


TEXTS = [
    "Juggler sends each LLM call down an ordered chain of providers.",
    "When a provider fails or is slow, the next one takes over.",
    "Every answer carries models_used, the list of every attempt.",
    "Bananas are an excellent source of potassium.",
]


def _rag_retriever() -> ContextualCompressionRetriever:
    embeddings = JugglerEmbeddings(
        targets=["together/BAAI/bge-base-en-v1.5", "selfhosted/BAAI/bge-base-en-v1.5"], **SIM
    )
    store = InMemoryVectorStore.from_texts(TEXTS, embeddings)
    rerank = JugglerRerank(
        targets=["voyage/rerank-2.5", "jina/jina-reranker-v2-base-multilingual"], top_n=2, **SIM
    )
    return ContextualCompressionRetriever(
        base_compressor=rerank, base_retriever=store.as_retriever(search_kwargs={"k": 4})
    )


def test_rag_pipeline() -> None:
    retriever = _rag_retriever()
    docs = retriever.invoke("What happens when a provider fails?")
    assert len(docs) == 2
    assert docs[0].metadata["relevance_score"] >= docs[1].metadata["relevance_score"]
    assert [a["provider"] for a in docs[0].metadata["models_used"]] == ["voyage", "jina"]

    llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    rag = (
        {
            "context": retriever | (lambda ds: "\n".join(d.page_content for d in ds)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | llm
    )
    answer = rag.invoke("What happens when a provider fails?")
    assert answer.content


async def test_rag_pipeline_async_reranks_natively() -> None:
    docs = await _rag_retriever().ainvoke("What does every answer carry?")
    assert len(docs) == 2 and "models_used" in docs[0].metadata


def test_rag_retriever_traces_the_rerank_as_a_child_run() -> None:
    tracer = RecordingTracer()
    _rag_retriever().invoke("What is models_used?", config={"callbacks": [tracer]})
    (retriever_run,) = [
        r for r in tracer.find("retriever") if r.name == "ContextualCompressionRetriever"
    ]
    (rerank_run,) = [r for r in tracer.find("chain") if r.name == "JugglerRerank"]
    assert rerank_run.parent_run_id == retriever_run.id
    assert rerank_run.outputs is not None and len(rerank_run.outputs["models_used"]) == 2


def test_tool_calling_agent() -> None:
    @tool
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    agent = llm.bind_tools([multiply])
    messages: list[Any] = [HumanMessage("What is 6 times 7? Use the multiply tool.")]
    while True:
        reply = agent.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            break
        for call in reply.tool_calls:
            messages.append(multiply.invoke(call))  # a ToolMessage with the result

    assert messages[1].tool_calls[0]["args"] == {"a": 6, "b": 7}
    assert messages[2].content == "42"
    assert "42" in reply.content


class ModelsUsedLogger(BaseCallbackHandler):
    """Logs which models each LLM call tried, and which one answered."""

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        meta = response.generations[0][0].message.response_metadata  # type: ignore[union-attr]
        for a in meta["models_used"]:
            logging.getLogger("app").info(
                "%s/%s %s %s", a["provider"], a["model"], a["outcome"], a["status_code"]
            )

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        for a in getattr(error, "models_used", []):
            logging.getLogger("app").warning("failed: %s", a.summary())


def test_callback_handler_logs_models_used(caplog: pytest.LogCaptureFixture) -> None:
    llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    with caplog.at_level(logging.INFO, logger="app"):
        llm.invoke("hi", config={"callbacks": [ModelsUsedLogger()]})
        list(llm.stream("hi", config={"callbacks": [ModelsUsedLogger()]}))
    logged = [r.getMessage() for r in caplog.records if r.name == "app"]
    assert (
        logged
        == [
            "groq/llama-3.1-8b-instant error 503",
            "openai/gpt-4o-mini success 200",
        ]
        * 2
    )


def test_tracing_example_names_the_answering_model_in_the_posted_run() -> None:
    import langsmith
    from langchain_core.tracers.langchain import LangChainTracer
    from langsmith_recorder import LangSmithRecorder

    with LangSmithRecorder() as rec:
        client = langsmith.Client(api_url=rec.url, api_key="test")
        tracer = LangChainTracer(client=client)
        llm = ChatJuggler(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
        llm.invoke("hi", config={"callbacks": [tracer]})
        tracer.wait_for_futures()
        client.flush()
        (run,) = rec.find("llm")
        meta = run["extra"]["metadata"]
        assert (meta["ls_provider"], meta["ls_model_name"]) == ("openai", "gpt-4o-mini")
        assert [a["provider"] for a in meta["models_used"]] == ["groq", "openai"]
        assert meta["juggler_chain"] == ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]
        llm.close()


def test_chatopenai_arguments_example() -> None:
    llm = ChatJuggler(
        model="gpt-4o-mini",
        temperature=0.2,
        presence_penalty=0.5,
        frequency_penalty=0.1,
        reasoning_effort="low",
        logprobs=True,
        top_logprobs=2,
        n=1,
        stream_usage=True,
        model_kwargs={"user": "u-42"},
        extra_body={"service_tier": "flex"},
        default_headers={"X-Team": "search"},
        timeout=30,
        max_retries=2,
        **SIM,
    )
    local = ChatJuggler(model="llama3.1", base_url="http://localhost:11434/v1", api_key="ollama")
    try:
        assert [str(t) for t in llm._chain()] == ["openai/gpt-4o-mini"]
        assert llm.invoke("hi").response_metadata["model_name"] == "gpt-4o-mini"
        assert [str(t) for t in local._chain()] == ["openai_compatible/llama3.1"]
    finally:
        llm.close()
        local.close()
