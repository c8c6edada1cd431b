"""The simulator's JSON mode (``response_format={"type": "json_object"}``) answers like a model
that read the prompt: an object that follows the JSON schema in the request (in the prompt,
as output parsers write it, or beside the type, as Together takes it), or with the keys the
prompt names."""

from __future__ import annotations

import json

import httpx
import jsonschema

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
from juggler.testing._behaviour import ChatInput, reply

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "age", "tags"],
}
# The shape of LangChain's PydanticOutputParser / JsonOutputParser format instructions:
# an example schema first, then the one to follow.
FORMAT_INSTRUCTIONS = (
    "The output should be formatted as a JSON instance that conforms to the JSON schema below."
    '\n\nAs an example, for the schema {"properties": {"foo": {"type": "array", "items": '
    '{"type": "string"}}}, "required": ["foo"]}\nthe object {"foo": ["bar", "baz"]} is a '
    "well-formatted instance of the schema.\n\nHere is the output schema:\n```\n"
    + json.dumps(PERSON)
    + "\n```"
)


def json_reply(**fields: object) -> object:
    return json.loads(reply(ChatInput(model="m", json_object=True, **fields)).text)  # type: ignore[arg-type]


def test_json_mode_follows_the_schema_written_in_the_prompt() -> None:
    prompt = "Describe a person aged 42.\n" + FORMAT_INSTRUCTIONS
    value = json_reply(last_user=prompt, context=prompt)
    jsonschema.validate(value, PERSON)
    assert value["age"] == 42  # type: ignore[index]


def test_json_mode_follows_the_schema_in_the_system_message() -> None:
    value = json_reply(last_user="Describe someone.", context=FORMAT_INSTRUCTIONS + "\nDescribe")
    jsonschema.validate(value, PERSON)


def test_json_mode_uses_keys_the_prompt_names_without_quotes() -> None:
    value = json_reply(last_user="Tell me a joke as JSON with keys setup and punchline.")
    assert set(value) == {"setup", "punchline"}  # type: ignore[arg-type]


def test_json_mode_uses_backticked_keys() -> None:
    value = json_reply(last_user="Answer in JSON with `city`, `country` and `population`.")
    assert list(value) == ["city", "country", "population"]  # type: ignore[arg-type]


def test_json_mode_without_schema_or_keys_answers_an_object() -> None:
    value = json_reply(last_user="Say hi in JSON.")
    assert isinstance(value, dict) and value


def test_openai_wire_json_mode_follows_the_schema_beside_the_type() -> None:
    body = {
        "model": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        "messages": [{"role": "user", "content": "Describe a person."}],
        "response_format": {"type": "json_object", "schema": PERSON},
    }
    with ProviderSimulator({"together": Scenario()}) as sim:
        r = httpx.post(sim.base_url("together") + "/chat/completions", json=body)
    jsonschema.validate(json.loads(r.json()["choices"][0]["message"]["content"]), PERSON)


def test_juggler_json_mode_through_openai_wire_follows_the_prompt_schema() -> None:
    with ProviderSimulator({"groq": Scenario()}) as sim:
        j = Juggler(chat=["groq/llama-3.1-8b-instant"], providers=sim.providers_config(), env={})
        messages = [
            {"role": "system", "content": FORMAT_INSTRUCTIONS},
            {"role": "user", "content": "Describe a person aged 7."},
        ]
        answer = j.chat(messages, response_format={"type": "json_object"})
        j.close()
    value = json.loads(answer.content)
    jsonschema.validate(value, PERSON)
    assert value["age"] == 7


def test_juggler_json_mode_on_anthropic_answers_with_the_keys_named() -> None:
    with ProviderSimulator({"anthropic": Scenario()}) as sim:
        j = Juggler(chat=["anthropic/claude-sonnet-4-5"], providers=sim.providers_config(), env={})
        answer = j.chat(
            "Tell me a joke as JSON with keys setup and punchline.",
            response_format={"type": "json_object"},
        )
        j.close()
    assert set(json.loads(answer.content)) == {"setup", "punchline"}
