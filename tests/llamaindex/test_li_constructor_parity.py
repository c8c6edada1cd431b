"""JugglerLLM is built like llama-index-llms-openai's ``OpenAI``/``OpenAILike``, by the same
core helper as the LangChain adapters, and refuses mistakes at construction."""

from __future__ import annotations

import json

import httpx
import pytest
from llama_index.core.base.llms.types import ChatMessage

from juggler import InvalidRequestError
from juggler.testing import ProviderSimulator
from llamaindex_juggler import JugglerLLM
from llamaindex_juggler._construct import adapter_juggler

HI = [ChatMessage(role="user", content="hi")]
OPENAI_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def test_model_api_key_max_retries_and_timeout_work_as_for_openai(
    simulator: ProviderSimulator,
) -> None:
    base = simulator.providers_config()["openai"]["base_url"]
    llm = JugglerLLM(
        model="gpt-4o-mini",
        api_key="sk-test",
        max_retries=1,
        timeout=7,
        env={"OPENAI_BASE_URL": base},
    )
    try:
        assert llm.targets == ["openai/gpt-4o-mini"]  # resolved through the catalogue
        assert llm.juggler.settings.timeout == 7
        assert llm.juggler.settings.retries == 1
        assert llm.chat(HI).additional_kwargs["model"] == "gpt-4o-mini"
    finally:
        llm.close()


def test_api_base_with_model_is_one_openai_compatible_target(
    simulator: ProviderSimulator,
) -> None:
    base = simulator.providers_config()["openai"]["base_url"]
    llm = JugglerLLM(model="gpt-4o-mini", api_base=base, api_key="k", env={})
    try:
        assert llm.targets == ["openai_compatible/gpt-4o-mini"]
        answer = llm.chat(HI)
        assert answer.additional_kwargs["provider"] == "openai_compatible"
    finally:
        llm.close()


def test_a_typo_gets_the_same_did_you_mean_as_chatjuggler() -> None:
    with pytest.raises(InvalidRequestError, match="did you mean 'max_retries'") as li:
        JugglerLLM(targets=["openai/gpt-4o-mini"], max_retrys=2, env={})
    from langchain_juggler import ChatJuggler

    with pytest.raises(InvalidRequestError, match="did you mean 'max_retries'") as lc:
        ChatJuggler(targets=["openai/gpt-4o-mini"], max_retrys=2, env={})
    assert "validation error" not in str(li.value) and "validation error" not in str(lc.value)


def test_an_unknown_model_id_gets_a_did_you_mean_listing_its_providers() -> None:
    with pytest.raises(InvalidRequestError, match=r"did you mean 'gpt-4o-mini' \(served by"):
        JugglerLLM(model="gpt-4o-mni", env={})


def test_additional_kwargs_are_checked_at_construction(simulator: ProviderSimulator) -> None:
    providers = simulator.providers_config()
    with pytest.raises(InvalidRequestError, match="must be a non-empty string"):
        JugglerLLM(
            targets=["openai/gpt-4o-mini"],
            providers=providers,
            env={},
            additional_kwargs={"user": 42},
        )
    with pytest.raises(InvalidRequestError, match="did you mean 'user'"):
        JugglerLLM(
            targets=["openai/gpt-4o-mini"],
            providers=providers,
            env={},
            additional_kwargs={"usr": "u-1"},
        )


def test_additional_kwargs_a_target_cannot_honour_are_refused_at_construction(
    simulator: ProviderSimulator,
) -> None:
    with pytest.raises(InvalidRequestError, match=r"anthropic/claude-sonnet-4-5.*presence_penalty"):
        JugglerLLM(
            targets=["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5"],
            providers=simulator.providers_config(),
            env={},
            additional_kwargs={"presence_penalty": 0.5},
        )


def test_additional_kwargs_user_is_sent_with_every_call() -> None:
    sent: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json=OPENAI_ANSWER)

    llm = JugglerLLM(
        targets=["openai/gpt-4o-mini"],
        providers={"openai": {"api_key": "sk-test"}},
        env={},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        additional_kwargs={"user": "u-1"},
    )
    try:
        llm.chat(HI)
        assert sent[-1]["user"] == "u-1"
    finally:
        llm.close()


def test_both_adapters_share_one_construction_helper() -> None:
    import langchain_juggler._construct as lc
    import llamaindex_juggler._construct as li

    assert lc.build_adapter_juggler is li.build_adapter_juggler
    assert callable(adapter_juggler)
