"""Pricer: bundled genai-prices figures, the user's own prices, and None when unknown."""

from __future__ import annotations

import sys

import pytest

from juggler import Juggler
from juggler._config import ProviderConfig, resolve_provider
from juggler._exceptions import InvalidRequestError
from juggler._policy.cost import ModelPrice, Pricer, Units
from juggler._types import Usage

MTOK = 1_000_000


def test_bundled_price_of_gpt_4o_mini_is_input_plus_output_rates() -> None:
    cost = Pricer().price("openai", "gpt-4o-mini", "chat", Usage.of(1000, 500))
    assert cost == pytest.approx((1000 * 0.15 + 500 * 0.60) / MTOK)


def test_cached_prompt_tokens_are_billed_at_the_cache_read_price() -> None:
    cost = Pricer().price("openai", "gpt-4o-mini", "chat", Usage.of(1000, 0, cached=800))
    assert cost == pytest.approx((200 * 0.15 + 800 * 0.075) / MTOK)


def test_anthropic_cache_writes_are_billed_at_the_cache_write_price() -> None:
    usage = Usage.of(1000, 10, cached=500, cache_write=100)
    cost = Pricer().price("anthropic", "claude-sonnet-4-5", "chat", usage)
    assert cost == pytest.approx((400 * 3 + 500 * 0.3 + 100 * 3.75 + 10 * 15) / MTOK)


def test_our_provider_names_map_to_genai_prices_ids() -> None:
    assert Pricer().price("moonshot", "kimi-k2-0905-preview", "chat", Usage.of(MTOK, 0)) == 0.6
    assert Pricer().price("voyage", "voyage-3.5", "embed", Usage.of(MTOK)) == 0.06


def test_the_served_dated_model_id_is_priced() -> None:
    served = "claude-sonnet-4-5-20250929"
    cost = Pricer().price("anthropic", "claude-x", "chat", Usage.of(1000, 0), served_model=served)
    assert cost == pytest.approx(1000 * 3 / MTOK)


def test_long_prompts_are_billed_at_the_higher_context_tier() -> None:
    cost = Pricer().price("anthropic", "claude-sonnet-4-5", "chat", Usage.of(300_000, 0))
    assert cost == pytest.approx(300_000 * 6 / MTOK)


def test_unknown_model_costs_none_not_zero() -> None:
    assert Pricer().price("openai", "no-such-model", "chat", Usage.of(10, 10)) is None


def test_unknown_provider_is_not_priced_at_another_vendors_rates() -> None:
    # nvidia serves llama-3.1-8b too, but genai-prices has no nvidia rows: unknown, not a guess.
    assert Pricer().price("nvidia", "meta/llama-3.1-8b-instruct", "chat", Usage.of(10, 10)) is None


def test_no_usage_and_no_units_cost_none() -> None:
    assert Pricer().price("openai", "gpt-4o-mini", "chat", None) is None
    assert Pricer().price("openai", "gpt-4o-mini", "chat", Usage()) is None


def test_transcription_is_priced_by_audio_seconds() -> None:
    cost = Pricer().price("openai", "whisper-1", "transcribe", units=Units(audio_seconds=60))
    assert cost == pytest.approx(0.006)


def test_speech_is_priced_by_input_characters() -> None:
    cost = Pricer().price("openai", "tts-1", "speak", units=Units(characters=1000))
    assert cost == pytest.approx(0.015)


def test_rerank_has_no_bundled_price() -> None:
    assert Pricer().price("cohere", "rerank-v3.5", "rerank", units=Units(searches=1)) is None


def test_user_rerank_price_per_search_ignores_reported_tokens() -> None:
    pricer = Pricer({"cohere": {"rerank-v3.5": ModelPrice(per_1k_searches=2.0)}})
    cost = pricer.price("cohere", "rerank-v3.5", "rerank", Usage.of(500), units=Units(searches=1))
    assert cost == pytest.approx(0.002)


def test_user_price_overrides_the_bundled_one() -> None:
    pricer = Pricer({"openai": {"gpt-4o-mini": ModelPrice(input_per_mtok=1, output_per_mtok=2)}})
    assert pricer.price("openai", "gpt-4o-mini", "chat", Usage.of(MTOK, MTOK)) == 3.0


def test_user_price_missing_a_billed_rate_gives_none() -> None:
    pricer = Pricer({"acme": {"m": ModelPrice(input_per_mtok=1)}})
    assert pricer.price("acme", "m", "chat", Usage.of(10, 10)) is None


def test_user_price_without_cache_rate_bills_cached_tokens_at_input_rate() -> None:
    pricer = Pricer({"acme": {"m": ModelPrice(input_per_mtok=1, output_per_mtok=1)}})
    assert pricer.price("acme", "m", "chat", Usage.of(MTOK, 0, cached=MTOK // 2)) == 1.0


def test_user_flat_per_request_price() -> None:
    pricer = Pricer({"acme": {"m": ModelPrice(per_request=0.01)}})
    assert pricer.price("acme", "m", "speak", units=Units(characters=5)) == 0.01


def test_user_price_with_no_applicable_rate_gives_none() -> None:
    pricer = Pricer({"acme": {"m": ModelPrice(per_mchars=1)}})
    assert pricer.price("acme", "m", "transcribe", units=Units(audio_seconds=5)) is None


def test_prices_come_from_providers_config() -> None:
    pricer = Pricer.from_providers(
        {"acme": {"api_key": "k", "prices": {"m": {"input_per_mtok": 2, "output_per_mtok": 4}}}}
    )
    assert pricer.price("acme", "m", "chat", Usage.of(MTOK, MTOK)) == 6.0


def test_provider_config_keeps_prices_through_resolution() -> None:
    _, config = resolve_provider(
        "openai", {"api_key": "k", "prices": {"m": {"input_per_mtok": 1}}}, env={}
    )
    assert config.prices == {"m": ModelPrice(input_per_mtok=1)}
    assert Pricer.from_providers({"openai": config}).user_price("openai", "m") is not None


def test_a_misspelt_price_field_is_rejected() -> None:
    with pytest.raises(ValueError, match="input_per_mtk"):
        ProviderConfig.model_validate({"prices": {"m": {"input_per_mtk": 1}}})


def test_juggler_accepts_prices_in_providers() -> None:
    j = Juggler(
        chat=["openai/gpt-4o-mini"],
        providers={"openai": {"api_key": "k", "prices": {"gpt-4o-mini": {"input_per_mtok": 1}}}},
        env={},
    )
    j.close()


def test_a_bad_price_in_juggler_providers_is_an_invalid_request() -> None:
    with pytest.raises((InvalidRequestError, ValueError)):
        Juggler(
            chat=["openai/gpt-4o-mini"],
            providers={"openai": {"api_key": "k", "prices": {"m": {"input_per_mtok": -1}}}},
            env={},
        )


def test_without_the_cost_extra_bundled_prices_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # import now raises ImportError
    assert Pricer().price("openai", "gpt-4o-mini", "chat", Usage.of(10, 10)) is None
    user = Pricer({"openai": {"gpt-4o-mini": ModelPrice(input_per_mtok=1, output_per_mtok=1)}})
    assert user.price("openai", "gpt-4o-mini", "chat", Usage.of(MTOK, 0)) == 1.0


def test_identical_usage_on_the_same_day_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from juggler._policy import cost as cost_module

    calls: list[str] = []
    real = cost_module._bundled_price

    def counting(*args: object) -> float | None:
        calls.append("x")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(cost_module, "_bundled_price", counting)
    pricer = Pricer()
    first = pricer.price("openai", "gpt-4o-mini", "chat", Usage.of(10, 10))
    assert pricer.price("openai", "gpt-4o-mini", "chat", Usage.of(10, 10)) == first
    pricer.price("openai", "gpt-4o-mini", "chat", Usage.of(11, 10))
    assert len(calls) == 2
