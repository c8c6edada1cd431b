"""The simulated model's deterministic behaviour (tool_choice, argument synthesis, JSON mode),
the ways to run the simulator (thread, async, fixture, own process), and FakeProvider."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest

from juggler import Juggler, RateLimitError, StreamInterruptedError, ToolCall
from juggler.testing import FakeProvider, FakeStream, ProviderSimulator, Scenario, simulator_fixture
from juggler.testing._behaviour import ChatInput, Tool, reply
from juggler.testing._schema import Hints, synthesize

MAGIC = Tool(
    "magic_function",
    "Apply a magic function to an input.",
    {
        "type": "object",
        "properties": {
            "input": {"type": "integer", "exclusiveMinimum": -1000, "exclusiveMaximum": 1000}
        },
        "required": ["input"],
    },
)
NO_ARGS = Tool("magic_function_no_args", "", {"type": "object", "properties": {}})
WEATHER = Tool(
    "get_weather", "", {"type": "object", "properties": {"location": {"type": "string"}}}
)

simulator = simulator_fixture({"groq": Scenario()})


def _call(prompt: str, tools: list[Tool], choice: str = "auto") -> list[tuple[str, dict]]:
    r = reply(ChatInput(model="m", last_user=prompt, tools=tools, tool_choice=choice))
    return [(name, args) for _, name, args in r.tool_calls]


def test_auto_calls_the_tool_named_in_the_prompt_with_its_number() -> None:
    prompt = "What is the value of magic_function(3)? Use the tool."
    assert _call(prompt, [MAGIC, NO_ARGS]) == [("magic_function", {"input": 3})]


def test_auto_answers_in_text_when_nothing_asks_for_a_tool() -> None:
    assert _call("Hello!", [MAGIC]) == []


def test_required_always_calls_a_tool_and_none_never() -> None:
    assert _call("Hello!", [MAGIC], "required")[0][0] == "magic_function"
    assert _call("Use magic_function(3)", [MAGIC], "none") == []


def test_named_tool_choice_calls_that_tool() -> None:
    assert _call("Hello!", [MAGIC, WEATHER], "get_weather") == [
        ("get_weather", {"location": "San Francisco, CA"})
    ]


def test_no_argument_tool_gets_empty_arguments() -> None:
    prompt = "What is the value of magic_function_no_args()? Use the tool."
    assert _call(prompt, [MAGIC, NO_ARGS]) == [("magic_function_no_args", {})]


def test_quoted_unicode_text_fills_string_arguments() -> None:
    tool = Tool(
        "unicode_customer",
        "",
        {
            "type": "object",
            "properties": {"customer_name": {"type": "string"}, "description": {"type": "string"}},
            "required": ["customer_name", "description"],
        },
    )
    prompt = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    [(_, args)] = _call(prompt, [tool], "required")
    assert args["customer_name"] == "你好啊集团" and args["description"]


def test_after_a_tool_result_the_answer_is_text() -> None:
    r = reply(ChatInput(model="m", last_user="weather?", after_tool="sunny", tools=[WEATHER]))
    assert r.tool_calls == [] and r.text == "The tool returned sunny."


def test_nested_schemas_with_refs_enums_and_bounds_are_satisfied() -> None:
    schema = {
        "$defs": {
            "Item": {"type": "object", "properties": {"qty": {"type": "integer", "minimum": 5}}}
        },
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 2},
            "mode": {"enum": ["fast", "slow"]},
            "when": {"type": "string", "format": "date-time"},
            "note": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 5}]},
            "score": {"type": "number", "exclusiveMaximum": 1},
        },
        "required": ["items", "mode", "when", "note", "score"],
    }
    value = synthesize(schema, Hints.from_prompt("1 and 2"))
    jsonschema.validate(value, schema)
    assert value["mode"] == "fast" and value["items"][0] == {"qty": 5}


def test_json_object_mode_uses_the_keys_the_prompt_quotes() -> None:
    prompt = "Tell me a joke. Return a JSON with 'setup' and 'punchline' keys."
    r = reply(ChatInput(model="m", last_user=prompt, json_object=True))
    assert set(json.loads(r.text)) == {"setup", "punchline"}


def test_simulator_fixture_yields_a_running_simulator(simulator: ProviderSimulator) -> None:
    assert httpx.get(simulator.url + "/_sim/health").json()["providers"] == ["groq"]


async def test_async_with_starts_and_stops_the_simulator() -> None:
    async with ProviderSimulator({"groq": Scenario()}) as sim, httpx.AsyncClient() as client:
        r = await client.post(
            sim.base_url("groq") + "/chat/completions", json={"model": "llama-3.1-8b-instant"}
        )
    assert r.json()["model"] == "llama-3.1-8b-instant"


def test_spawned_simulator_runs_in_its_own_process_and_is_controllable() -> None:
    with ProviderSimulator.spawn({"groq": Scenario()}) as proc:
        j = Juggler(chat=["groq/llama-3.1-8b-instant"], providers=proc.providers_config(), env={})
        assert j.chat("hi").provider == "groq"
        proc.set_scenario("groq", Scenario(error_rates={500: 1.0}))
        with pytest.raises(Exception, match="500"):
            j.chat("hi")
        j.close()
        assert proc.counts("groq")[200] == 1 and proc.counts("groq")[500] >= 1


def test_fake_provider_follows_its_script_inside_a_juggler() -> None:
    a = FakeProvider("fake-a", script=[RateLimitError("slow down"), "second answer"])
    b = FakeProvider("fake-b", script=["from b"])
    j = Juggler(
        chat=["fake-a/m", "fake-b/m"], providers={**a.config(), **b.config()}, env={}, retries=0
    )
    first = j.chat("hello")
    assert first == "from b" and first.models_used[0].error_type == "RateLimitError"
    assert j.chat("again") == "second answer"
    assert [c.capability for c in a.calls] == ["chat", "chat"]
    j.close()


def test_fake_provider_scripts_tool_calls_and_broken_streams() -> None:
    fake = FakeProvider(
        "fake-a",
        script=[
            ToolCall(id="1", name="lookup", arguments={"q": "x"}),
            FakeStream(["Hel", "lo"], RateLimitError("cut")),
        ],
    )
    j = Juggler(chat=["fake-a/m"], providers=fake.config(), env={}, retries=0)
    assert j.chat("hi").tool_calls[0].name == "lookup"
    with pytest.raises(StreamInterruptedError) as info:
        list(j.stream_chat("hi"))
    assert info.value.partial_text == "Hello"
    j.close()


def test_fake_provider_without_a_script_behaves_like_the_simulator() -> None:
    fake = FakeProvider("fake-a")
    j = Juggler(chat=["fake-a/m"], embed=["fake-a/e"], providers=fake.config(), env={})
    assert j.chat("hello there") == 'Simulated answer to "hello there" from m.'
    assert len(j.embed(["x"])[0]) == 256
    j.close()
