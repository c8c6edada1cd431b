"""A JugglerLLM answer says what the call cost in ``additional_kwargs``."""

from __future__ import annotations

from llama_index.core.llms import ChatMessage

from juggler import Juggler
from juggler.testing import ProviderSimulator
from llamaindex_juggler import JugglerLLM

from .conftest import CHAT

PRICE = {"input_per_mtok": 1_000_000.0, "output_per_mtok": 2_000_000.0}


def test_additional_kwargs_carry_the_call_cost(simulator: ProviderSimulator) -> None:
    providers = simulator.providers_config()
    name, model = CHAT[-1].split("/", 1)
    providers[name] = {**providers[name], "prices": {model: PRICE}}
    juggler = Juggler(chat=CHAT, providers=providers, env={}, retries=0)
    try:
        answer = JugglerLLM(juggler=juggler).chat([ChatMessage(role="user", content="hi")])
    finally:
        juggler.close()
    kwargs = answer.additional_kwargs
    assert kwargs["cost_usd"] > 0
    assert kwargs["cost_usd"] == sum(a["cost_usd"] or 0 for a in kwargs["models_used"])
