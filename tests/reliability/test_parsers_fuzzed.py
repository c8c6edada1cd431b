"""Every wire × capability parser, fed fuzzed answers through ``httpx.MockTransport``: only
Juggler's own errors come out, each with the HTTP status, and what is accepted is usable.

Bodies are the recorded shapes in ``_wire_bodies`` with one node replaced by any JSON value
(hypothesis), arbitrary JSON documents, and bodies cut short. ``max_examples`` is kept modest
so the whole module runs in a few seconds.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
from typing import Any

import httpx
import pytest
from _wire_bodies import BY_ID, CASES, Case, provider_for, response_for, run, sse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juggler import (
    InvalidResponseError,
    JugglerError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from juggler._types import ToolCall

FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every node of a JSON value, as a path of keys and indexes (the root included)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += paths(item, (*prefix, i))
    return out


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the node at ``path`` replaced by ``new``."""
    if not path:
        return new
    out = copy.deepcopy(value)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return out


def assert_usable(case: Case, result: Any) -> None:
    """What a caller relies on, checked independently of the library's own checks."""
    if case.capability == "stream":
        assert isinstance(result, list)
        for delta in result:
            assert isinstance(delta.text, str)
            assert delta.finish_reason is None or isinstance(delta.finish_reason, str)
            assert delta.model is None or isinstance(delta.model, str)
        return
    if case.capability == "chat":
        assert isinstance(result.content, str) and isinstance(result.model, str) and result.model
        assert result.finish_reason is None or isinstance(result.finish_reason, str)
        assert all(isinstance(c, ToolCall) for c in result.tool_calls)
    elif case.capability == "embed":
        assert len(result.vectors) == len(case.request.texts)
        sizes = {len(v) for v in result.vectors}
        assert len(sizes) == 1 and sizes != {0}
        assert all(math.isfinite(x) for v in result.vectors for x in v)
    elif case.capability == "rerank":
        indexes = [i for i, _ in result.ranking]
        assert len(set(indexes)) == len(indexes)
        assert all(type(i) is int and 0 <= i < len(case.request.documents) for i in indexes)
        assert all(math.isfinite(s) for _, s in result.ranking)
    elif case.capability == "transcribe":
        assert isinstance(result.text, str)
    elif case.capability == "speak":
        assert result.audio and not result.content_type.startswith("text/")
    usage = getattr(result, "usage", None)
    for count in (usage.input_tokens, usage.output_tokens, usage.total_tokens) if usage else ():
        assert count is None or (type(count) is int and count >= 0)


def outcome(case: Case, response: httpx.Response) -> Any:
    """The result, or the error, after checking that an error is one of ours with a status."""
    try:
        result = run(case, response)
    except ProviderError as exc:
        assert exc.status_code is not None, f"{type(exc).__name__} without a status: {exc}"
        return exc
    except JugglerError as exc:  # pragma: no cover - a failure message, not a path
        pytest.fail(f"not a ProviderError: {type(exc).__name__}: {exc}")
    assert_usable(case, result)
    return result


def test_every_recorded_shape_parses() -> None:
    for case in CASES:
        assert not isinstance(outcome(case, response_for(case, case.body)), Exception), case.id


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@FUZZ
@given(data=st.data())
def test_one_node_replaced_raises_only_our_errors(case: Case, data: st.DataObject) -> None:
    body = case.body
    if isinstance(body, bytes):
        body = {"audio": "not audio"}  # speech: a JSON body where audio was expected
    nodes = paths(body)
    if case.capability == "stream":
        nodes = nodes[1:]  # a stream stays a list of events; any event may be replaced
    path = data.draw(st.sampled_from(nodes))
    outcome(case, response_for(case, replaced(body, path, data.draw(JSON))))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@settings(max_examples=10, deadline=None, derandomize=True)
@given(body=JSON)
def test_any_json_document_raises_only_our_errors(case: Case, body: Any) -> None:
    if case.capability == "stream":
        body = [body]
    outcome(case, response_for(case, body))


NON_STREAM = [c for c in CASES if c.capability not in ("stream", "speak")]
STREAMS = [c for c in CASES if c.capability == "stream"]


@pytest.mark.parametrize("case", NON_STREAM, ids=lambda c: c.id)
@settings(max_examples=10, deadline=None, derandomize=True)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_a_body_cut_short_is_an_invalid_response(case: Case, fraction: float) -> None:
    full = json.dumps(case.body).encode()
    error = outcome(case, response_for(case, full[: int(len(full) * fraction)]))
    assert isinstance(error, InvalidResponseError) and error.status_code == 200


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
def test_a_stream_ending_before_its_final_event_is_truncated(case: Case) -> None:
    for cut in range(len(case.body)):  # every clean end short of the final event, even 0
        error = outcome(case, response_for(case, case.body[:cut]))
        assert isinstance(error, InvalidResponseError), (case.id, cut)
        assert "truncated stream" in str(error) and error.status_code == 200


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_a_stream_cut_mid_event_is_an_invalid_response(case: Case, fraction: float) -> None:
    full = sse(case.body, case.provider if case.provider != "openai" else "openai")
    error = outcome(case, response_for(case, full[: int(len(full) * fraction)]))
    assert isinstance(error, InvalidResponseError)


# ----- the examples named in the issue, one behaviour each -----

RERANKS = [c for c in CASES if c.capability == "rerank"]
EMBEDS = [c for c in CASES if c.capability == "embed"]


def _invalid(case: Case, body: Any, status: int = 200) -> InvalidResponseError:
    error = outcome(case, response_for(case, body, status))
    assert isinstance(error, InvalidResponseError), error
    assert error.status_code == status
    return error


@pytest.mark.parametrize("body", [None, [], "ok", 3])
@pytest.mark.parametrize("case", RERANKS, ids=lambda c: c.id)
def test_a_rerank_body_that_is_not_an_object_is_invalid(case: Case, body: Any) -> None:
    _invalid(case, body)


def _rows_key(case: Case) -> tuple[str, str]:
    if case.provider == "nvidia":
        return "rankings", "logit"
    return ("data" if case.provider == "voyage" else "results"), "relevance_score"


@pytest.mark.parametrize("indexes", [[0, 0], [0, 2], [-1, 0], [True, 0], ["1", 0], [1.0, 0]])
@pytest.mark.parametrize("case", RERANKS, ids=lambda c: c.id)
def test_duplicate_or_out_of_range_rerank_indexes_are_invalid(
    case: Case, indexes: list[Any]
) -> None:
    rows, score = _rows_key(case)
    body = {rows: [{"index": i, score: 0.5} for i in indexes]}
    _invalid(case, body)


@pytest.mark.parametrize("vectors", [[[0.1, 0.2], [0.3]], [[], []], [[0.1], [math.inf]]])
@pytest.mark.parametrize("case", EMBEDS, ids=lambda c: c.id)
def test_embeddings_of_mixed_zero_or_infinite_values_are_invalid(
    case: Case, vectors: list[list[float]]
) -> None:
    if case.provider == "google":
        body: Any = {"embeddings": [{"values": v} for v in vectors]}
    elif case.provider == "cohere":
        body = {"embeddings": {"float": vectors}}
    else:
        body = {"data": [{"index": i, "embedding": v} for i, v in enumerate(vectors)]}
    _invalid(case, body)


def test_a_null_event_in_an_openai_stream_is_invalid() -> None:
    case = BY_ID["openai-stream"]
    _invalid(case, [case.body[0], "null", "[DONE]"])


@pytest.mark.parametrize("tokens", [[1, 2], math.inf, -5, "7x", {"a": 1}])
def test_usage_prompt_tokens_of_a_wrong_type_is_invalid(tokens: Any) -> None:
    case = BY_ID["openai-chat"]
    error = _invalid(case, replaced(case.body, ("usage", "prompt_tokens"), tokens))
    assert "usage.prompt_tokens" in str(error)  # the shape model says where, in one line
    assert "\n" not in str(error)


def test_a_choice_that_is_a_list_is_invalid() -> None:
    _invalid(BY_ID["openai-chat"], {"choices": [[1]]})


@pytest.mark.parametrize("field", ["model", "finish_reason"])
@pytest.mark.parametrize("value", [123, ["x"], {"a": 1}, True])
def test_model_or_finish_reason_of_another_json_type_is_invalid(field: str, value: Any) -> None:
    case = BY_ID["openai-chat"]
    path = ("model",) if field == "model" else ("choices", 0, "finish_reason")
    _invalid(case, replaced(case.body, path, value))


@pytest.mark.parametrize("text", [123, None, ["a"], {"t": 1}])
def test_a_transcript_that_is_not_a_string_is_invalid(text: Any) -> None:
    _invalid(BY_ID["openai-transcribe"], {"text": text})


def test_a_captive_portal_page_is_not_speech_audio() -> None:
    case = BY_ID["openai-speak"]
    page = httpx.Response(
        200,
        content=b"<!DOCTYPE html><html>Sign in to the Wi-Fi</html>",
        headers={"content-type": "text/html"},
    )
    error = outcome(case, page)
    assert isinstance(error, InvalidResponseError) and error.status_code == 200


def test_a_json_speech_answer_is_invalid_with_its_status() -> None:
    _invalid(BY_ID["openai-speak"], {"audio": "nope"})


# ----- one rule for an error object inside a 200, on every wire -----

JSON_CASES = [c for c in CASES if c.capability != "stream"]


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.id)
def test_an_error_inside_a_200_carrying_a_code_is_classified_by_it(case: Case) -> None:
    error = outcome(case, response_for(case, {"error": {"code": 429, "message": "slow down"}}))
    assert isinstance(error, RateLimitError) and error.status_code == 429


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.id)
def test_an_error_inside_a_200_without_a_code_is_an_invalid_response(case: Case) -> None:
    error = _invalid(case, {"error": {"message": "something broke", "code": "oops"}})
    assert "something broke" in str(error)


@pytest.mark.parametrize("case", STREAMS, ids=lambda c: c.id)
def test_an_error_event_in_a_stream_is_classified_by_its_code(case: Case) -> None:
    if case.provider == "anthropic":
        frame: Any = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    else:
        frame = {"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}
    error = outcome(case, response_for(case, [case.body[0], frame]))
    assert isinstance(error, ServerError) and error.status_code in (503, 529)


class _TrackedBody(httpx.AsyncByteStream):
    """A response body that records whether the client closed it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.closed = False

    async def __aiter__(self) -> Any:
        yield self.content

    async def aclose(self) -> None:
        self.closed = True


def test_a_refused_delta_closes_the_stream_at_once() -> None:
    case = BY_ID["cohere-stream"]
    events = copy.deepcopy(case.body)
    events[2]["delta"]["message"]["content"]["text"] = 123  # parses, but is not text
    body = _TrackedBody(sse(events, "cohere"))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body, headers={"content-type": "text/event-stream"})

    async def scenario() -> tuple[BaseException | None, bool]:
        provider = provider_for(case, handler)
        try:
            async for _ in provider.stream_chat(case.model, case.request):
                pass
        except InvalidResponseError as exc:
            return exc, body.closed  # checked before the loop's shutdown could close it
        return None, body.closed

    error, closed = asyncio.run(scenario())
    assert isinstance(error, InvalidResponseError) and error.status_code == 200
    assert closed
