"""A ChatJuggler answer says what the call cost, losers included, so LangSmith's cost view
and the app's own accounting read one figure."""

from __future__ import annotations

from typing import Any

import lc_support

from juggler import Juggler
from langchain_juggler import ChatJuggler

PRICE = {"input_per_mtok": 1_000_000.0, "output_per_mtok": 2_000_000.0}


def test_response_metadata_carries_the_call_cost(simulator: Any) -> None:
    params = lc_support.chat_params()
    providers = params["providers"]
    prices = {t.split("/", 1)[1]: PRICE for t in params["targets"] if t.startswith("openai/")}
    providers["openai"] = {**providers["openai"], "prices": prices}
    juggler = Juggler(chat=params["targets"], providers=providers, env={}, retries=0)
    try:
        message = ChatJuggler(juggler=juggler).invoke("hi")
    finally:
        juggler.close()
    used = message.response_metadata["models_used"]
    assert message.response_metadata["cost_usd"] == sum(a["cost_usd"] or 0 for a in used)
    assert message.response_metadata["cost_usd"] > 0
    assert message.usage_metadata is not None and message.usage_metadata["input_tokens"] > 0
