"""JugglerLLM against the simulator: every call falls back from a 503 target to a healthy one,
and the answer says so in ``additional_kwargs["models_used"]``."""

from __future__ import annotations

import copy
import json

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel

from juggler import (
    AllProvidersFailedError,
    CapabilityNotConfiguredError,
    InvalidRequestError,
    Juggler,
)
from juggler import ChatResponse as JugglerChatResponse
from juggler.testing import ProviderSimulator
from llamaindex_juggler import JugglerLLM

from .conftest import CHAT

HI = [ChatMessage(role="user", content="hi")]


def fell_back(kwargs: dict) -> bool:
    """The groq 503 first, then openai's answer."""
    used = kwargs["models_used"]
    return [(a["provider"], a["outcome"], a["status_code"]) for a in used] == [
        ("groq", "error", 503),
        ("openai", "success", 200),
    ]


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


class Joke(BaseModel):
    """A joke."""

    setup: str
    punchline: str


# ----- construction and metadata -----


def test_is_a_function_calling_llm(llm: JugglerLLM) -> None:
    assert isinstance(llm, FunctionCallingLLM)


def test_targets_and_juggler_options_build_a_juggler(simulator: ProviderSimulator) -> None:
    llm = JugglerLLM(targets=CHAT, providers=simulator.providers_config(), env={}, timeout=5)
    try:
        assert llm.targets == CHAT
        assert llm.juggler.settings.timeout == 5
        assert fell_back(llm.chat(HI).additional_kwargs)
    finally:
        llm.close()


def test_juggler_and_options_together_are_refused(juggler: Juggler) -> None:
    with pytest.raises(InvalidRequestError, match="takes its settings from that Juggler"):
        JugglerLLM(juggler=juggler, timeout=5)


def test_a_juggler_without_a_chat_chain_is_refused(simulator: ProviderSimulator) -> None:
    j = Juggler(embed=["together/BAAI/bge-base-en-v1.5"], providers={}, env={})
    with pytest.raises(CapabilityNotConfiguredError):
        JugglerLLM(juggler=j)


def test_metadata_describes_the_first_target(llm: JugglerLLM) -> None:
    meta = llm.metadata
    assert meta.model_name == "groq/llama-3.1-8b-instant"
    assert meta.context_window == 131_072  # groq's catalogue row
    assert meta.num_output == 256  # LlamaIndex's default when max_tokens is unset
    assert meta.is_chat_model and meta.is_function_calling_model


def test_max_tokens_is_num_output(juggler: Juggler) -> None:
    assert JugglerLLM(juggler=juggler, max_tokens=64).metadata.num_output == 64


def test_unknown_call_arguments_are_reported(llm: JugglerLLM) -> None:
    with pytest.raises(InvalidRequestError, match="did you mean"):
        llm.chat(HI, frequency=1)


# ----- the eight methods -----


def test_chat_falls_back_and_reports_models_used(llm: JugglerLLM) -> None:
    response = llm.chat(HI)
    assert "gpt-4o-mini" in (response.message.content or "")
    assert fell_back(response.additional_kwargs)
    assert response.additional_kwargs["provider"] == "openai"


def test_raw_is_the_juggler_answer(llm: JugglerLLM) -> None:
    raw = llm.chat(HI).raw
    assert isinstance(raw.response, JugglerChatResponse)
    assert raw.provider == "openai"
    assert [a.provider for a in raw.models_used] == ["groq", "openai"]
    assert raw["usage"]["prompt_tokens"] > 0


def test_raw_survives_copies_and_json(llm: JugglerLLM) -> None:
    response = llm.chat(HI)
    copied = copy.deepcopy(response)
    assert copied.raw["models_used"] == response.additional_kwargs["models_used"]
    assert json.loads(response.model_dump_json())["raw"]["provider"] == "openai"


async def test_achat_falls_back(llm: JugglerLLM) -> None:
    assert fell_back((await llm.achat(HI)).additional_kwargs)


def test_complete_falls_back(llm: JugglerLLM) -> None:
    response = llm.complete("hi")
    assert "gpt-4o-mini" in response.text
    assert fell_back(response.additional_kwargs)


async def test_acomplete_falls_back(llm: JugglerLLM) -> None:
    assert fell_back((await llm.acomplete("hi")).additional_kwargs)


def test_stream_chat_puts_models_used_on_the_last_chunk_only(llm: JugglerLLM) -> None:
    chunks = list(llm.stream_chat(HI))
    assert len(chunks) > 2
    assert all("models_used" not in c.additional_kwargs for c in chunks[:-1])
    assert fell_back(chunks[-1].additional_kwargs)
    assert chunks[-1].message.content == "".join(c.delta or "" for c in chunks)


async def test_astream_chat_puts_models_used_on_the_last_chunk(llm: JugglerLLM) -> None:
    chunks = [c async for c in await llm.astream_chat(HI)]
    assert all("models_used" not in c.additional_kwargs for c in chunks[:-1])
    assert fell_back(chunks[-1].additional_kwargs)


def test_stream_complete_accumulates_text(llm: JugglerLLM) -> None:
    chunks = list(llm.stream_complete("hi"))
    assert chunks[-1].text == "".join(c.delta or "" for c in chunks)
    assert fell_back(chunks[-1].additional_kwargs)


async def test_astream_complete_falls_back(llm: JugglerLLM) -> None:
    chunks = [c async for c in await llm.astream_complete("hi")]
    assert fell_back(chunks[-1].additional_kwargs)


def test_every_target_down_raises_with_models_used(
    llm: JugglerLLM, simulator: ProviderSimulator
) -> None:
    with pytest.raises(AllProvidersFailedError) as caught:
        llm.chat(HI, targets=["groq/llama-3.1-8b-instant"])
    assert [a.status_code for a in caught.value.models_used] == [503]


def test_token_counting_handler_reads_the_usage(juggler: Juggler) -> None:
    counter = TokenCountingHandler()
    llm = JugglerLLM(juggler=juggler, callback_manager=CallbackManager([counter]))
    response = llm.chat(HI)
    assert counter.prompt_llm_token_count == response.additional_kwargs["prompt_tokens"]


# ----- tools -----


def test_chat_with_tools_returns_tool_selections(llm: JugglerLLM) -> None:
    tool = FunctionTool.from_defaults(multiply)
    response = llm.chat_with_tools([tool], user_msg="Use the multiply tool on 3 and 4")
    (call,) = llm.get_tool_calls_from_response(response)
    assert (call.tool_name, call.tool_kwargs) == ("multiply", {"a": 3, "b": 4})
    assert fell_back(response.additional_kwargs)


def test_no_tool_call_raises_only_when_asked(llm: JugglerLLM) -> None:
    response = llm.chat(HI)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(response)


def test_prepare_chat_with_tools_leaves_the_history_alone(llm: JugglerLLM) -> None:
    history = [ChatMessage(role="system", content="be brief")]
    tool = FunctionTool.from_defaults(multiply)
    prepared = llm._prepare_chat_with_tools([tool], "hi", history, tool_required=True)
    assert len(history) == 1 and len(prepared["messages"]) == 2
    assert prepared["tool_choice"] == "required"
    assert prepared["tools"][0]["function"]["name"] == "multiply"


def test_predict_and_call_runs_the_tool(llm: JugglerLLM) -> None:
    tool = FunctionTool.from_defaults(multiply)
    assert str(llm.predict_and_call([tool], user_msg="multiply 6 and 7")) == "42"


async def test_tool_calls_survive_streaming(llm: JugglerLLM) -> None:
    tool = FunctionTool.from_defaults(multiply)
    stream = await llm.astream_chat_with_tools([tool], user_msg="call the tool with 2 and 5")
    chunks = [c async for c in stream]
    (call,) = llm.get_tool_calls_from_response(chunks[-1])
    assert call.tool_kwargs == {"a": 2, "b": 5}


def test_tool_results_are_sent_back_as_tool_messages(llm: JugglerLLM) -> None:
    tool = FunctionTool.from_defaults(multiply)
    first = llm.chat_with_tools([tool], user_msg="use the multiply tool on 2 and 3")
    (call,) = llm.get_tool_calls_from_response(first)
    result = ChatMessage(role="tool", content="6", additional_kwargs={"tool_call_id": call.tool_id})
    history = [ChatMessage(role="user", content="multiply 2 and 3"), first.message, result]
    answer = llm.chat_with_tools([tool], chat_history=history)
    assert llm.get_tool_calls_from_response(answer, error_on_no_tool_call=False) == []
    assert answer.message.content


# ----- structured output -----


def test_structured_predict_through_a_tool_call(llm: JugglerLLM) -> None:
    joke = llm.structured_predict(Joke, PromptTemplate("Tell a joke about {topic}"), topic="cats")
    assert isinstance(joke, Joke) and joke.punchline


async def test_astructured_predict_through_json_schema(juggler: Juggler) -> None:
    llm = JugglerLLM(juggler=juggler, structured_output_method="json_schema")
    joke = await llm.astructured_predict(Joke, PromptTemplate("A joke about {topic}"), topic="x")
    assert isinstance(joke, Joke)


def test_as_structured_llm_answers_json(llm: JugglerLLM) -> None:
    response = llm.as_structured_llm(Joke).chat([ChatMessage(role="user", content="a joke")])
    assert Joke.model_validate_json(response.message.content or "")


def test_api_keys_never_surface(llm: JugglerLLM, simulator: ProviderSimulator) -> None:
    key = simulator.providers_config()["openai"]["api_key"]
    response = llm.chat(HI)
    seen = llm.to_json() + repr(llm) + json.dumps(response.additional_kwargs) + repr(response.raw)
    assert key not in seen


class FlexiblePerson(BaseModel):
    """A person (string fields: the simulator fills them from the quoted prompt text)."""

    name: str
    city: str


def test_stream_structured_predict_fills_the_object_from_streamed_tool_calls(
    llm: JugglerLLM,
) -> None:
    # LlamaIndex streams with tool_choice "auto"; naming the tool makes the simulator call it.
    prompt = PromptTemplate("Use FlexiblePerson for: {text}")
    partials = list(llm.stream_structured_predict(FlexiblePerson, prompt, text="'Ann'"))
    last = partials[-1]
    assert last.name and last.city  # was FlexiblePerson(name=None, city=None)


def test_streamed_tool_calls_sit_in_blocks_and_in_additional_kwargs(llm: JugglerLLM) -> None:
    tool = FunctionTool.from_defaults(fn=lambda city: city, name="weather")
    chunks = list(
        llm.stream_chat_with_tools([tool], user_msg="weather in Paris?", tool_required=True)
    )
    calls = chunks[-1].message.additional_kwargs["tool_calls"]
    assert calls[0]["function"]["name"] == "weather"
    assert isinstance(calls[0]["function"]["arguments"], str)
