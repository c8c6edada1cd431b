"""End to end on the simulator: a RAG query engine built from all three adapters, and agents
that call a tool. Every chain's first target answers 503."""

from __future__ import annotations

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.agent.workflow import (
    AgentOutput,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)
from llama_index.core.tools import FunctionTool

from llamaindex_juggler import JugglerEmbedding, JugglerLLM, JugglerRerank, ModelsUsedEvent

from .conftest import Recorder

DOCS = [
    "Cats eat fish and sleep most of the day.",
    "Dogs bark at the postman.",
    "Parrots repeat words they hear.",
    "Cats and dogs can live together peacefully.",
]


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def build_engine(
    embedding: JugglerEmbedding, llm: JugglerLLM, rerank: JugglerRerank
) -> tuple[VectorStoreIndex, object]:
    index = VectorStoreIndex.from_documents([Document(text=t) for t in DOCS], embed_model=embedding)
    engine = index.as_query_engine(llm=llm, node_postprocessors=[rerank], similarity_top_k=4)
    return index, engine


def test_a_vector_index_queried_through_all_three_adapters(
    embedding: JugglerEmbedding, llm: JugglerLLM, rerank: JugglerRerank, recorder: Recorder
) -> None:
    _, engine = build_engine(embedding, llm, rerank)
    response = engine.query("What do cats eat?")  # type: ignore[attr-defined]
    assert "gpt-4o-mini" in str(response)  # the healthy chat target answered
    assert len(response.source_nodes) == 2  # rerank's top_n
    assert "Cats eat fish" in response.source_nodes[0].node.get_content()
    assert response.source_nodes[0].metadata["models_used"][-1]["provider"] == "jina"
    components = {e.component: e.provider for e in recorder.events.of(ModelsUsedEvent)}
    assert components == {"embedding": "together", "rerank": "jina", "llm": "openai"}


async def test_the_same_pipeline_runs_async(
    embedding: JugglerEmbedding, llm: JugglerLLM, rerank: JugglerRerank, recorder: Recorder
) -> None:
    _, engine = build_engine(embedding, llm, rerank)
    response = await engine.aquery("Do dogs bark?")  # type: ignore[attr-defined]
    assert "gpt-4o-mini" in str(response)
    assert "Dogs bark" in response.source_nodes[0].node.get_content()


async def test_a_function_agent_calls_a_tool_then_answers(llm: JugglerLLM) -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(multiply)], llm=llm)
    handler = agent.run(user_msg="Use the multiply tool on 6 and 7.")
    results = [e async for e in handler.stream_events() if isinstance(e, ToolCallResult)]
    output: AgentOutput = await handler
    (result,) = results
    assert (result.tool_name, result.tool_kwargs) == ("multiply", {"a": 6, "b": 7})
    assert result.tool_output.content == "42"
    assert "42" in str(output.response.content)  # answered in text after the tool result
    assert [a["provider"] for a in output.raw["models_used"]] == ["groq", "openai"]


async def test_a_non_streaming_function_agent_works_too(llm: JugglerLLM) -> None:
    agent = FunctionAgent(tools=[FunctionTool.from_defaults(multiply)], llm=llm, streaming=False)
    output = await agent.run(user_msg="Call the multiply tool with 3 and 5.")
    assert "15" in str(output.response.content)
    assert [t.tool_output.content for t in output.tool_calls] == ["15"]


async def test_a_react_agent_runs_on_the_llm(llm: JugglerLLM) -> None:
    agent = ReActAgent(tools=[FunctionTool.from_defaults(multiply)], llm=llm)
    output = await agent.run(user_msg="What is the capital of France?")
    assert "gpt-4o-mini" in str(output.response.content)
