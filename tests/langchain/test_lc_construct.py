"""The shared constructor: targets + Juggler options, or juggler=; standard parameters."""

from __future__ import annotations

import lc_support
import pytest

from juggler import InvalidRequestError, Juggler
from langchain_juggler import ChatJuggler, JugglerEmbeddings, JugglerRerank

CHAIN = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]


def test_targets_become_the_chain_of_the_adapters_capability() -> None:
    assert [str(t) for t in ChatJuggler(targets=CHAIN, env={}).client.chain("chat")] == CHAIN
    emb = JugglerEmbeddings(targets=["openai/text-embedding-3-small"], env={})
    assert [str(t) for t in emb.client.chain("embed")] == ["openai/text-embedding-3-small"]
    rr = JugglerRerank(targets=["cohere/rerank-v3.5"], env={})
    assert [str(t) for t in rr.client.chain("rerank")] == ["cohere/rerank-v3.5"]


def test_any_juggler_option_is_accepted_as_a_keyword() -> None:
    llm = ChatJuggler(targets=CHAIN, env={}, first_token_timeout=3.0, retries_per_target=1)
    assert llm.client.settings.first_token_timeout == 3.0
    assert llm.client.settings.retries_per_target == 1


def test_standard_params_map_onto_juggler_settings() -> None:
    llm = ChatJuggler(
        targets=CHAIN,
        env={},
        temperature=0,
        max_tokens=100,
        timeout=12,
        stop=[],
        max_retries=1,
        api_key="test",
        streaming=True,
    )
    assert llm.client.settings.timeout == 12
    assert llm.client.settings.retries == 1
    assert llm.streaming is True


def test_api_key_fills_chain_providers_without_one() -> None:
    llm = ChatJuggler(
        targets=CHAIN, providers={"openai": {"api_key": "own-key"}}, api_key="shared", env={}
    )
    assert llm.client.providers["groq"].has_key
    assert llm.client.providers["openai"].has_key


def test_keys_never_appear_in_repr_or_dumps() -> None:
    llm = ChatJuggler(
        targets=CHAIN, providers={"groq": {"api_key": "gsk_secret123456"}}, api_key="sk-xyz"
    )
    assert "secret" not in repr(llm) and "sk-xyz" not in repr(llm)
    dumped = str(llm.model_dump())
    assert "secret" not in dumped and "sk-xyz" not in dumped


def test_unknown_keyword_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(InvalidRequestError, match="'tempurature'; did you mean 'temperature'"):
        ChatJuggler(targets=CHAIN, tempurature=0.2)


def test_a_shared_juggler_is_used_as_is() -> None:
    shared = Juggler(CHAIN, env={})
    llm = ChatJuggler(juggler=shared)
    assert llm.client is shared
    llm.close()  # not ours to close
    assert llm.client is shared


def test_a_shared_juggler_refuses_competing_settings() -> None:
    with pytest.raises(InvalidRequestError, match="configure them on the Juggler"):
        ChatJuggler(juggler=Juggler(CHAIN, env={}), providers={"groq": {}}, timeout=3)


def test_targets_with_a_shared_juggler_choose_the_chain_per_call() -> None:
    shared = Juggler(CHAIN, providers=lc_support.providers(), env={})
    llm = ChatJuggler(juggler=shared, targets=["openai/gpt-4o-mini"])
    msg = llm.invoke("hi")
    assert [a["provider"] for a in msg.response_metadata["models_used"]] == ["openai"]
    shared.close()


def test_model_alone_is_a_one_target_chain() -> None:
    llm = ChatJuggler(model="openai/gpt-4o-mini", env={})
    assert [str(t) for t in llm.client.chain("chat")] == ["openai/gpt-4o-mini"]


def test_ls_params_name_the_requested_target_and_the_chain_before_the_call() -> None:
    llm = ChatJuggler(targets=CHAIN, env={}, temperature=0.3, max_tokens=50)
    params = llm._get_ls_params()
    assert params["ls_provider"] == "groq"
    assert params["ls_model_name"] == "llama-3.1-8b-instant"
    assert params["juggler_chain"] == [str(t) for t in llm._chain()]
    assert params["ls_temperature"] == 0.3 and params["ls_max_tokens"] == 50
    override = llm._get_ls_params(model="openai/gpt-4.1-mini")
    assert (override["ls_provider"], override["ls_model_name"]) == ("openai", "gpt-4.1-mini")


def test_the_public_api_is_exactly_all_and_documented() -> None:
    import langchain_juggler

    assert langchain_juggler.__all__ == sorted(langchain_juggler.__all__)
    for name in langchain_juggler.__all__:
        assert getattr(langchain_juggler, name).__doc__
