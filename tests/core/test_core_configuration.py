"""Targets are explicit or discovered; keys and base URLs come from the environment or
``providers=``; the sync API runs on one long-lived loop thread."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest

from juggler import DEFAULT_ORDER, Juggler, Provider, Target


def test_with_no_chain_every_provider_with_a_key_is_used_in_the_default_order():
    env = {"OPENAI_API_KEY": "a", "GROQ_API_KEY": "b", "CEREBRAS_API_KEY": "c"}
    juggler = Juggler(env=env)

    chain = juggler.chain("chat")
    assert [t.provider for t in chain] == ["cerebras", "groq", "openai"]
    assert chain[0].model == "qwen-3-32b"
    assert DEFAULT_ORDER.index("cerebras") < DEFAULT_ORDER.index("openai")


def test_providers_without_a_key_are_not_discovered():
    assert Juggler(env={"GROQ_API_KEY": "b"}).chain("chat") == [
        Target(provider="groq", model="llama-3.1-8b-instant", tier=1, context_window=131_072)
    ]


def test_base_url_comes_from_the_environment_and_paths_are_appended():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"}}]})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    env = {"GROQ_API_KEY": "k", "GROQ_BASE_URL": "http://127.0.0.1:9/proxy/openai/v1"}
    with Juggler(chat=["groq/llama-3.1-8b-instant"], env=env, http_client=client) as juggler:
        juggler.chat("Hello")
    assert seen == ["http://127.0.0.1:9/proxy/openai/v1/chat/completions"]


def test_providers_argument_wins_over_the_environment():
    headers = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["authorization"])
        return httpx.Response(200, json={"choices": [{"message": {"content": "hi"}}]})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with Juggler(
        chat=["groq/llama-3.1-8b-instant"],
        providers={"groq": {"api_key": "from-arg"}},
        env={"GROQ_API_KEY": "from-env"},
        http_client=client,
    ) as juggler:
        juggler.chat("Hello")
    assert headers == ["Bearer from-arg"]


def test_a_custom_openai_compatible_server_is_one_providers_entry():
    def handler(request: httpx.Request) -> httpx.Response:
        assert str(request.url) == "http://127.0.0.1:8080/v1/chat/completions"
        return httpx.Response(200, json={"choices": [{"message": {"content": "local"}}]})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    with Juggler(
        chat=["local/my-model"],
        providers={"local": {"base_url": "http://127.0.0.1:8080/v1"}},
        env={},
        http_client=client,
    ) as juggler:
        assert juggler.chat("Hello") == "local"


def test_target_objects_and_strings_mix():
    juggler = Juggler(
        chat=[Target(provider="groq", model="llama-3.3-70b-versatile", tier=2), "openai/gpt-4o"],
        env={"GROQ_API_KEY": "a", "OPENAI_API_KEY": "b"},
    )
    assert [str(t) for t in juggler.chain("chat")] == [
        "groq/llama-3.3-70b-versatile",
        "openai/gpt-4o",
    ]
    assert juggler.chain("chat")[0].tier == 2


def test_provider_is_a_string_enum():
    assert Provider.GROQ == "groq"
    assert str(Provider.ANTHROPIC) == "anthropic"


def _echo_handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        200, json={"model": body["model"], "choices": [{"message": {"content": "pong"}}]}
    )


def test_the_sync_api_runs_on_one_long_lived_loop_thread(make_juggler):
    juggler = make_juggler(_echo_handler, ["groq/llama-3.1-8b-instant"])
    before = threading.active_count()
    for _ in range(5):
        assert juggler.chat("ping") == "pong"
    assert threading.active_count() <= before + 1
    assert sum(t.name == "juggler-loop" for t in threading.enumerate()) >= 1


async def test_the_sync_api_works_inside_a_running_event_loop(make_juggler):
    juggler = make_juggler(_echo_handler, ["groq/llama-3.1-8b-instant"])
    assert asyncio.get_running_loop().is_running()
    assert juggler.chat("ping") == "pong"


def test_close_is_idempotent(make_juggler):
    juggler = make_juggler(_echo_handler, ["groq/llama-3.1-8b-instant"])
    juggler.chat("ping")
    juggler.close()
    juggler.close()


@pytest.mark.parametrize("name", ["groq", "cerebras", "openai", "mistral", "deepseek"])
def test_each_openai_format_vendor_is_a_data_row(name):
    from juggler import CATALOG

    assert CATALOG[name].wire == "openai"
    assert CATALOG[name].base_url.startswith("https://")


@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_a_test_cannot_reach_beyond_loopback():
    import socket

    import pytest_socket

    with pytest.raises(pytest_socket.SocketConnectBlockedError):
        socket.create_connection(("93.184.216.34", 443), timeout=1)
