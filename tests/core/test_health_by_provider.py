"""``get_health_status()`` is keyed by provider, as the seed shows (``status["groq"]
["circuit_state"]``, ``["success_rate"]``), with per-model detail under ``["models"]``;
``health_check()`` keys are ``Provider`` members."""

from __future__ import annotations

import httpx
import pytest

from juggler import AllProvidersFailedError, Juggler, Provider, ServerError
from juggler._routing.probe import provider_circuit_state
from juggler.testing import FakeProvider

OK = {"model": "m", "choices": [{"message": {"role": "assistant", "content": "pong"}}]}


def two_model_fleet(*steps: object) -> Juggler:
    a = FakeProvider("a", script=list(steps), models={"chat": "m1"})
    return Juggler(
        chat=["a/m1", "a/m2"],
        providers=a.config(),
        env={},
        retries=0,
        circuit_consecutive_failures=1,
        circuit_min_calls=1,
    )


def test_status_is_keyed_by_provider_with_pooled_figures_and_models_beneath() -> None:
    j = two_model_fleet(ServerError("boom", status_code=500), "ok")
    j.chat("hi")
    status = j.get_health_status()
    assert status["a"]["circuit_state"] == "closed"  # m2 still serves
    assert status["a"]["success_rate"] == 0.5  # m1 failed once, m2 answered once
    assert (status["a"]["requests"], status["a"]["failures"]) == (2, 1)
    assert status["a"]["models"]["m1"]["circuit_state"] == "open"
    assert status["a"]["models"]["m2"]["circuit_state"] == "closed"
    assert status["a"]["models"]["m1"]["last_error"] == "ServerError: boom"
    j.close()


def test_a_provider_circuit_is_open_only_when_every_model_circuit_is_open() -> None:
    j = two_model_fleet(
        ServerError("boom", status_code=500), "ok", ServerError("boom", status_code=500)
    )
    j.chat("hi")
    with pytest.raises(AllProvidersFailedError):
        j.chat("hi")  # m1 is skipped (open); m2 fails and opens
    assert j.get_health_status()["a"]["circuit_state"] == "open"
    j.close()


def test_a_provider_is_half_open_when_no_model_is_closed_and_one_is_half_open() -> None:
    assert provider_circuit_state(["open", "half_open"]) == "half_open"
    assert provider_circuit_state(["open", "closed"]) == "closed"
    assert provider_circuit_state([]) == "closed"


def test_health_check_keys_are_provider_members_and_keyless_providers_are_not_probed() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, json=OK)

    j = Juggler(
        chat=["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"],
        env={"GROQ_API_KEY": "g"},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    results = j.health_check()
    assert results == {"groq": True, "openai": False}
    assert all(type(key) is Provider for key in results)
    assert results[Provider.GROQ] is True
    assert hosts == ["api.groq.com"]
    j.close()


def test_health_check_keeps_plain_names_for_custom_providers() -> None:
    fake = FakeProvider("my-server", script=lambda capability, request: "pong")
    j = Juggler(chat=["my-server/m"], providers=fake.config(), env={})
    assert j.health_check() == {"my-server": True}
    j.close()
