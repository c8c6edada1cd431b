"""The README's LlamaIndex examples, run against the simulator.

Each test is the README code with one change: ``providers=`` points every provider at the
simulator (the README reads keys from the environment and names the self-hosted server's
URL). Every chain's first target is down, so each example shows a fallback in models_used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import llama_index.core.instrumentation as instrument
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.instrumentation.event_handlers import BaseEventHandler

from juggler.testing import ProviderSimulator, Scenario
from llamaindex_juggler import JugglerEmbedding, JugglerLLM, JugglerRerank, ModelsUsedEvent

DOWN = Scenario(error_rates={503: 1.0})
SIM: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def _simulated_providers() -> Iterator[None]:
    scenarios = {
        "groq": DOWN,
        "openai": Scenario(),
        "together": DOWN,
        "selfhosted": Scenario(wire="openai", models={"embed": "BAAI/bge-base-en-v1.5"}),
        "voyage": DOWN,
        "jina": Scenario(),
    }
    with ProviderSimulator(scenarios) as sim:
        SIM.update(providers=sim.providers_config(), env={})
        yield
        SIM.clear()


def test_llm_example(capsys: pytest.CaptureFixture[str]) -> None:
    llm = JugglerLLM(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    response = llm.complete("Say hi")
    print([(a["provider"], a["outcome"]) for a in response.additional_kwargs["models_used"]])

    assert capsys.readouterr().out == "[('groq', 'error'), ('openai', 'success')]\n"


def test_rag_example(capsys: pytest.CaptureFixture[str]) -> None:
    llm = JugglerLLM(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    embed_model = JugglerEmbedding(  # the same weights, hosted twice: one embedding space
        targets=["together/BAAI/bge-base-en-v1.5", "selfhosted/BAAI/bge-base-en-v1.5"],
        **SIM,
    )
    rerank = JugglerRerank(
        targets=["voyage/rerank-2.5", "jina/jina-reranker-v2-base-multilingual"], top_n=2, **SIM
    )
    texts = [
        "When a provider fails or is slow, the next one takes over.",
        "Bananas are rich in potassium.",
    ]
    docs = [Document(text=t) for t in texts]
    index = VectorStoreIndex.from_documents(docs, embed_model=embed_model)
    engine = index.as_query_engine(llm=llm, node_postprocessors=[rerank], similarity_top_k=4)
    answer = engine.query("What happens when a provider fails?")
    print([a["provider"] for a in answer.source_nodes[0].metadata["models_used"]])

    assert capsys.readouterr().out == "['voyage', 'jina']\n"
    assert answer.source_nodes[0].node.get_content() == texts[0]
    assert "gpt-4o-mini" in str(answer)


class ModelsUsedLog(BaseEventHandler):
    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, ModelsUsedEvent):  # every llm, embedding and rerank call
            print(event.component, [a["provider"] for a in event.models_used])


def test_instrumentation_example(capsys: pytest.CaptureFixture[str]) -> None:
    handler = ModelsUsedLog()
    instrument.get_dispatcher().add_event_handler(handler)
    try:
        embed_model = JugglerEmbedding(
            targets=["together/BAAI/bge-base-en-v1.5", "selfhosted/BAAI/bge-base-en-v1.5"],
            **SIM,
        )
        embed_model.get_query_embedding("hello")
    finally:
        instrument.get_dispatcher().event_handlers.remove(handler)
    assert capsys.readouterr().out == "embedding ['together', 'selfhosted']\n"


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


async def test_agent_example() -> None:
    llm = JugglerLLM(targets=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"], **SIM)
    agent = FunctionAgent(tools=[multiply], llm=llm)
    output = await agent.run("Use the multiply tool on 6 and 7.")

    assert output.tool_calls[0].tool_output.content == "42"
    assert "42" in str(output)


def test_constructor_parity_example() -> None:
    llm = JugglerLLM(model="gpt-4o-mini", api_key="sk-...", max_retries=2, timeout=30, env={})
    local = JugglerLLM(model="llama3.1", api_base="http://localhost:11434/v1", api_key="ollama")
    checked = JugglerLLM(targets=["openai/gpt-4o-mini"], additional_kwargs={"user": "u-42"}, **SIM)
    try:
        assert llm.targets == ["openai/gpt-4o-mini"]
        assert local.targets == ["openai_compatible/llama3.1"]
        assert checked.complete("hi").additional_kwargs["model"] == "gpt-4o-mini"
    finally:
        for x in (llm, local, checked):
            x.close()
