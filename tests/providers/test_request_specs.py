"""Every request body the openai, cohere, mistral, together and voyage adapters send validates
against that vendor's official OpenAPI spec in ``shared/wire/specs``.

Bodies are captured with ``httpx.MockTransport`` while a real ``Juggler`` makes each call; the
spec's request schema (components resolved with ``referencing``) validates them with
``jsonschema`` (OpenAPI 3.1 schemas are JSON Schema 2020-12). Multipart uploads are validated
as the object of their form fields. The specs are megabytes of YAML: each is loaded once per
session.
"""

from __future__ import annotations

import email.parser
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from juggler import Juggler

SPECS = Path(os.environ.get("JUGGLER_WIRE_DIR", "/work/shared/wire")) / "specs"
FILES = {
    "openai": "openai/openapi.yaml",
    "cohere": "cohere/cohere-openapi.yaml",
    "mistral": "mistral/openapi.yaml",
    "together": "together/openapi.yaml",
    "voyage": "voyage/openapi.yml",
}
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason="shared/wire/specs not present")


def _fix_voyage(spec: dict[str, Any]) -> dict[str, Any]:
    """Voyage's Fern-generated spec types ``input`` as ``object`` *and* ``oneOf [string,
    array]``, which no value can satisfy; drop the stray ``type`` so the ``oneOf`` decides."""
    body = spec["paths"]["/embeddings"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"]["properties"]["input"].pop("type", None)
    return spec


def _apply_discriminators(node: Any) -> Any:
    """Give OpenAPI's ``discriminator`` its meaning in plain JSON Schema.

    ``oneOf`` + ``discriminator.mapping`` means "the variant named by the property", but a JSON
    Schema validator ignores ``discriminator`` and then fails when two variants both match
    (Cohere's text/json_object response formats do). Each mapping entry becomes an
    ``if property == key then $ref``, and the ``oneOf`` an ``anyOf``.
    """
    if isinstance(node, list):
        return [_apply_discriminators(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _apply_discriminators(v) for k, v in node.items()}
    mapping = (node.get("discriminator") or {}).get("mapping")
    if "oneOf" in node and mapping:
        prop = node["discriminator"]["propertyName"]
        node["anyOf"] = node.pop("oneOf")
        node["allOf"] = [
            *node.get("allOf", []),
            *(
                {
                    "if": {"properties": {prop: {"const": key}}, "required": [prop]},
                    "then": {"$ref": ref},
                }
                for key, ref in mapping.items()
            ),
        ]
    return node


@pytest.fixture(scope="session")
def specs() -> dict[str, Registry[Any]]:
    """One ``referencing`` registry per vendor, holding its whole spec at ``urn:<vendor>``."""
    registries: dict[str, Registry[Any]] = {}
    for vendor, rel in FILES.items():
        with (SPECS / rel).open() as f:
            spec = yaml.load(f, Loader=Loader)
        if vendor == "voyage":
            spec = _fix_voyage(spec)
        spec = _apply_discriminators(spec)
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        registries[vendor] = Registry().with_resource(f"urn:{vendor}", resource)
    return registries


def _pointer(path: str, content_type: str) -> str:
    parts = ["paths", path, "post", "requestBody", "content", content_type, "schema"]
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def errors_of(
    registries: dict[str, Registry[Any]],
    vendor: str,
    path: str,
    body: dict[str, Any],
    content_type: str = "application/json",
) -> list[str]:
    """Schema violations of ``body`` as the request of ``POST path`` (empty when valid)."""
    schema = {"$ref": f"urn:{vendor}#{_pointer(path, content_type)}"}
    validator = Draft202012Validator(schema, registry=registries[vendor])
    return [f"{list(e.absolute_path)}: {e.message}"[:300] for e in validator.iter_errors(body)]


# ----- a Juggler whose requests are captured and answered plausibly -----

SSE_OPENAI = (
    'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}\n\n'
    "data: [DONE]\n\n"
)
SSE_COHERE = (
    'event: content-delta\ndata: {"type":"content-delta","index":0,'
    '"delta":{"message":{"content":{"text":"hi"}}}}\n\n'
    'event: message-end\ndata: {"type":"message-end","delta":{"finish_reason":"COMPLETE"}}\n\n'
)


def _answer(request: httpx.Request, body: Any) -> httpx.Response:
    path = request.url.path
    n = len(body.get("texts") or body.get("input") or []) if isinstance(body, dict) else 1
    if path.endswith("/audio/speech"):
        return httpx.Response(200, content=b"ID3audio", headers={"content-type": "audio/mpeg"})
    if path.endswith("/audio/transcriptions"):
        return httpx.Response(200, json={"text": "hi", "language": "en", "duration": 1.0})
    if path.endswith("/v2/embed"):
        return httpx.Response(200, json={"embeddings": {"float": [[0.5]] * n}})
    if path.endswith("/embeddings"):
        return httpx.Response(
            200, json={"data": [{"index": i, "embedding": [0.5]} for i in range(n)]}
        )
    if path.endswith("/rerank"):
        rows = [{"index": 0, "relevance_score": 0.9}]
        return httpx.Response(200, json={"results": rows, "data": rows})
    if body.get("stream"):
        sse = SSE_COHERE if path.endswith("/v2/chat") else SSE_OPENAI
        return httpx.Response(200, text=sse, headers={"content-type": "text/event-stream"})
    if path.endswith("/v2/chat"):
        message = {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}
        return httpx.Response(200, json={"message": message, "finish_reason": "COMPLETE"})
    message = {"role": "assistant", "content": "hi"}
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    )


def _form(request: httpx.Request) -> dict[str, Any]:
    """A multipart body as ``{field: value}``; the file part becomes its file name."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + request.content)
    fields: dict[str, Any] = {}
    for part in message.get_payload():  # type: ignore[union-attr]
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[name] = part.get_filename() or payload.decode()
    return fields


Captured = list[tuple[str, dict[str, Any], str]]


@pytest.fixture
def capture() -> Iterator[tuple[Callable[..., Juggler], Captured]]:
    """``(make, captured)``: ``make(vendor, **chains)`` builds a Juggler for one vendor;
    ``captured`` collects ``(path, body, content_type)`` of every request it sends."""
    captured: Captured = []
    made: list[Juggler] = []

    def handler(request: httpx.Request) -> httpx.Response:
        kind = request.headers.get("content-type", "").split(";")[0]
        body = _form(request) if kind == "multipart/form-data" else json.loads(request.content)
        captured.append((request.url.path, body, kind))
        return _answer(request, body)

    def make(vendor: str, **chains: Any) -> Juggler:
        j = Juggler(
            providers={vendor: {"api_key": "test"}},
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            env={},
            retries=0,
            **chains,
        )
        made.append(j)
        return j

    yield make, captured
    for j in made:
        j.close()


TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
]
SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "city", "schema": {"type": "object", "properties": {}}},
}


def _chat_calls(j: Juggler, *, history: bool = True) -> None:
    j.chat("hi", temperature=0.5, max_tokens=20, top_p=0.9, stop=["\n"])
    j.chat(HISTORY if history else "Weather in Paris?", tools=[TOOL], tool_choice="auto")
    j.chat("json please", response_format=SCHEMA_FORMAT)
    "".join(j.stream_chat("hi", max_tokens=5))


def _assert_all_valid(registries: Any, vendor: str, captured: Captured, prefix: str = "") -> None:
    assert captured, "nothing was sent"
    problems = {
        f"{path} #{i}": errs
        for i, (path, body, kind) in enumerate(captured)
        if (errs := errors_of(registries, vendor, path.removeprefix(prefix), body, kind))
    }
    assert problems == {}


# ----- the five vendors -----


def test_openai_bodies_match_the_openai_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make(
        "openai",
        chat=["openai/gpt-4o-mini"],
        embed=["openai/text-embedding-3-small"],
        transcribe=["openai/whisper-1"],
        speak=["openai/tts-1"],
    )
    _chat_calls(j)
    j.embed(["Hello", "World"], dimensions=256)
    j.transcribe(b"ID3audio", filename="audio.mp3", language="en", prompt="names")
    j.speak("Hello world", voice="nova", format="wav", speed=1.25)
    _assert_all_valid(specs, "openai", captured, prefix="/v1")


def test_cohere_bodies_match_the_cohere_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make(
        "cohere",
        chat=["cohere/command-a-03-2025"],
        embed=["cohere/embed-v4.0"],
        rerank=["cohere/rerank-v3.5"],
    )
    _chat_calls(j)
    j.chat("hi", tools=[TOOL], tool_choice="required", temperature=1.7, top_p=1.0, seed=7)
    j.embed(["Hello", "World"], input_type="document", dimensions=256)
    j.embed("Hello", input_type="query")
    j.rerank("query", ["doc1", "doc2", "doc3"], top_k=2)
    _assert_all_valid(specs, "cohere", captured)


def test_mistral_bodies_match_the_mistral_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make("mistral", chat=["mistral/mistral-small-latest"], embed=["mistral/codestral-embed"])
    _chat_calls(j)
    j.chat("hi", seed=7)  # Mistral names it random_seed and rejects "seed"
    j.embed(["Hello", "World"])
    j.embed(["Hello"], dimensions=256)
    _assert_all_valid(specs, "mistral", captured)


def test_together_bodies_match_the_together_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make(
        "together",
        chat=["together/meta-llama/Llama-3.3-70B-Instruct-Turbo"],
        embed=["together/BAAI/bge-base-en-v1.5"],
        rerank=["together/Salesforce/Llama-Rank-v1"],
    )
    _chat_calls(j, history=False)  # tool-call history: its own test below
    j.embed(["Hello", "World"])
    j.rerank("query", ["doc1", "doc2", "doc3"], top_k=2)
    j.rerank("query", ["doc1", "doc2"])
    _assert_all_valid(specs, "together", captured, prefix="/v1")


def test_together_tool_call_history_matches_the_together_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make("together", chat=["together/meta-llama/Llama-3.3-70B-Instruct-Turbo"])
    j.chat(HISTORY, tools=[TOOL])
    _assert_all_valid(specs, "together", captured, prefix="/v1")


def test_voyage_bodies_match_the_voyage_spec(specs: Any, capture: Any) -> None:
    make, captured = capture
    j = make("voyage", embed=["voyage/voyage-3.5"], rerank=["voyage/rerank-2.5"])
    j.embed(["Hello", "World"], input_type="document", dimensions=512)
    j.embed("Hello")
    j.rerank("query", ["doc1", "doc2", "doc3"], top_k=2)
    _assert_all_valid(specs, "voyage", captured, prefix="/v1")


# ----- the validator itself catches bad bodies (so a pass means something) -----


def test_the_validator_rejects_a_body_the_spec_forbids(specs: Any) -> None:
    bad = {"model": "mistral-embed", "input": ["x"], "dimensions": 256}
    assert errors_of(specs, "mistral", "/v1/embeddings", bad)
    assert errors_of(specs, "cohere", "/v2/embed", {"model": "embed-v4.0", "texts": ["x"]})
    assert errors_of(specs, "voyage", "/embeddings", {"model": "v", "input": 3})
