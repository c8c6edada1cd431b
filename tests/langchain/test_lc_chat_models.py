"""ChatJuggler on the simulator: fallback, models_used, per-call model, tools, structured
output. The first target of every chain answers 503."""

from __future__ import annotations

from typing import Any

import lc_support
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.outputs import LLMResult
from pydantic import BaseModel, Field

from juggler import AllProvidersFailedError, InvalidRequestError, StreamInterruptedError
from langchain_juggler import ChatJuggler


class GetWeather(BaseModel):
    """Get the current weather in a city."""

    city: str = Field(description="the city")


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


def _fell_back(used: list[dict[str, Any]]) -> None:
    assert [(a["provider"], a["outcome"]) for a in used] == [
        ("groq", "error"),
        ("openai", "success"),
    ]
    assert used[0]["status_code"] == 503


def test_invoke_falls_back_and_reports_every_attempt(chat: ChatJuggler) -> None:
    msg = chat.invoke("Say hello")
    assert isinstance(msg, AIMessage) and msg.content
    _fell_back(msg.response_metadata["models_used"])
    assert msg.response_metadata["model_name"] == "gpt-4o-mini"
    assert msg.response_metadata["model_provider"] == "openai"
    assert msg.usage_metadata is not None and msg.usage_metadata["input_tokens"] > 0


async def test_ainvoke_falls_back_and_reports_every_attempt(chat: ChatJuggler) -> None:
    msg = await chat.ainvoke("Say hello")
    _fell_back(msg.response_metadata["models_used"])
    assert msg.response_metadata["model_name"] == "gpt-4o-mini"


def test_stream_puts_models_used_on_the_last_chunk_only(chat: ChatJuggler) -> None:
    chunks = list(chat.stream("Say hello in five words"))
    assert len(chunks) > 2
    assert all("models_used" not in c.response_metadata for c in chunks[:-1])
    assert chunks[-1].chunk_position == "last"
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert isinstance(full, AIMessageChunk) and full.content
    # Merging concatenates lists: two attempts, not four, proves it appeared once.
    _fell_back(full.response_metadata["models_used"])
    assert full.response_metadata["model_name"] == "gpt-4o-mini"
    assert full.usage_metadata is not None and full.usage_metadata["output_tokens"] > 0


async def test_astream_puts_models_used_on_the_last_chunk_only(chat: ChatJuggler) -> None:
    chunks = [c async for c in chat.astream("Say hello in five words")]
    assert all("models_used" not in c.response_metadata for c in chunks[:-1])
    _fell_back(chunks[-1].response_metadata["models_used"])


def test_batch_answers_each_input_with_its_own_attempts(chat: ChatJuggler) -> None:
    answers = chat.batch(["one", "two"])
    for msg in answers:
        _fell_back(msg.response_metadata["models_used"])


def test_per_call_model_puts_that_target_first(chat: ChatJuggler) -> None:
    msg = chat.invoke("hi", model="openai/gpt-4.1-mini")
    used = msg.response_metadata["models_used"]
    assert [(a["provider"], a["model"]) for a in used] == [("openai", "gpt-4.1-mini")]
    assert msg.response_metadata["model_name"] == "gpt-4.1-mini"


def test_per_call_model_outside_the_chain_is_added_in_front(chat: ChatJuggler) -> None:
    msg = chat.invoke("hi", model="openai/o4-mini")
    assert msg.response_metadata["models_used"][0]["model"] == "o4-mini"


def test_per_call_model_may_name_a_chain_model_by_its_id(chat: ChatJuggler) -> None:
    msg = chat.invoke("hi", model="gpt-4.1-mini")
    assert msg.response_metadata["model_provider"] == "openai"
    assert msg.response_metadata["model_name"] == "gpt-4.1-mini"


def test_a_bare_model_id_outside_the_chain_is_refused(chat: ChatJuggler) -> None:
    with pytest.raises(InvalidRequestError, match="not a model of this chain"):
        chat.invoke("hi", model="mystery-model")


async def test_per_call_model_works_when_streaming_async(chat: ChatJuggler) -> None:
    chunks = [c async for c in chat.astream("hi", model="openai/gpt-4.1-mini")]
    assert chunks[-1].response_metadata["model_name"] == "gpt-4.1-mini"


def test_llm_output_and_on_llm_end_carry_models_used(chat: ChatJuggler) -> None:
    seen: list[LLMResult] = []

    class Handler(BaseCallbackHandler):
        def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
            seen.append(response)

    result = chat.generate([[HumanMessage("hi")]], callbacks=[Handler()])
    assert result.llm_output is not None
    _fell_back(result.llm_output["models_used"])
    assert seen[0].llm_output is not None
    _fell_back(seen[0].llm_output["models_used"])


def test_when_every_target_fails_the_core_error_carries_models_used() -> None:
    down = ChatJuggler(
        targets=["groq/llama-3.1-8b-instant"],
        providers=lc_support.providers(),
        env={},
        max_retries=0,
    )
    with pytest.raises(AllProvidersFailedError) as info:
        down.invoke("hi")
    assert [a.provider for a in info.value.models_used] == ["groq"]
    down.close()


def test_bind_tools_with_any_forces_a_tool_call(chat: ChatJuggler) -> None:
    msg = chat.bind_tools([GetWeather], tool_choice="any").invoke("Paris, please")
    assert isinstance(msg, AIMessage)
    assert msg.tool_calls[0]["name"] == "GetWeather"
    assert isinstance(msg.tool_calls[0]["args"]["city"], str)
    _fell_back(msg.response_metadata["models_used"])


def test_tool_choice_by_name_calls_that_tool(chat: ChatJuggler) -> None:
    def lookup(term: str) -> str:
        """Look a term up."""
        return term

    msg = chat.bind_tools([lookup, GetWeather], tool_choice="GetWeather").invoke("hello")
    assert isinstance(msg, AIMessage)
    assert [c["name"] for c in msg.tool_calls] == ["GetWeather"]


def test_streamed_tool_calls_arrive_as_tool_call_chunks(chat: ChatJuggler) -> None:
    chunks = list(chat.bind_tools([GetWeather], tool_choice="any").stream("weather in Paris"))
    assert any(c.tool_call_chunks for c in chunks)
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert isinstance(full, AIMessageChunk)
    assert full.tool_calls[0]["name"] == "GetWeather"


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_output_works_with_each_method(chat: ChatJuggler, method: str) -> None:
    structured = chat.with_structured_output(Joke, method=method)  # type: ignore[arg-type]
    joke = structured.invoke("Tell a joke about cats with a 'setup' and a 'punchline'.")
    assert isinstance(joke, Joke) and joke.setup and joke.punchline


@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
async def test_structured_output_streams_with_each_method(chat: ChatJuggler, method: str) -> None:
    structured = chat.with_structured_output(Joke, method=method)  # type: ignore[arg-type]
    last = None
    async for part in structured.astream("A joke with a 'setup' and a 'punchline'."):
        last = part
    assert isinstance(last, Joke)


def test_structured_output_with_include_raw_keeps_the_message(chat: ChatJuggler) -> None:
    out = chat.with_structured_output(Joke, include_raw=True).invoke("a joke")
    assert isinstance(out, dict) and isinstance(out["parsed"], Joke)
    _fell_back(out["raw"].response_metadata["models_used"])


def test_unsupported_call_arguments_are_refused(chat: ChatJuggler) -> None:
    with pytest.raises(InvalidRequestError, match=r"did you mean .frequency_penalty."):
        chat.invoke("hi", frequency_penaltyy=1)


def test_a_stream_cut_after_tokens_raises_instead_of_truncating(chat: ChatJuggler) -> None:
    sim = lc_support.simulator()
    sim.set_scenario("openai", lc_support.Scenario(cut_stream_after=3))
    received: list[AIMessageChunk] = []
    try:
        with pytest.raises(StreamInterruptedError) as info:
            for chunk in chat.stream("Tell me a rather long story about a juggler"):
                received.append(chunk)
    finally:
        sim.set_scenario("openai", lc_support.Scenario())
    assert received and info.value.partial_text
    assert [a.provider for a in info.value.models_used] == ["groq", "openai"]


def test_stopping_a_stream_early_is_clean(chat: ChatJuggler) -> None:
    for _chunk in chat.stream("Tell me a rather long story about a juggler"):
        break
    assert chat.invoke("still works").content


def test_streaming_true_makes_invoke_stream(chat: ChatJuggler) -> None:
    tokens: list[str] = []

    class Tokens(BaseCallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append(token)

    streaming = ChatJuggler(streaming=True, **lc_support.chat_params())
    msg = streaming.invoke("Say hello in five words", config={"callbacks": [Tokens()]})
    assert len(tokens) > 2
    assert len(msg.response_metadata["models_used"]) == 2
    streaming.close()
