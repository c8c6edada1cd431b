"""A content-policy refusal is a ContentPolicyError: recorded, not retried, and the next
target is tried (another vendor's policy may allow the request; LiteLLM's
``content_policy_fallbacks``). Before, these stopped the chain as RequestRejectedError.

The refusal bodies are the ones vendors send: OpenAI's and Azure's 400 bodies as quoted in
public issues (openai-python#331, compl-ai#20, agentscope#171), Anthropic's recorded answer
with its ``stop_reason`` set to ``refusal`` (the value Claude's classifiers send), and
Gemini's recorded safety block (``google/chat_blocked_safety.yaml``, in test_google.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from juggler import ContentPolicyError, Juggler
from juggler._policy.breaker import Breakers
from juggler.providers._classify import classify

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"

OPENAI_POLICY = {
    "error": {
        "code": "content_policy_violation",
        "message": "Your request was rejected as a result of our safety system. Your prompt "
        "may contain text that is not allowed by our safety system.",
        "param": None,
        "type": "invalid_request_error",
    }
}
AZURE_FILTER = {
    "error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
        "content management policy. Please modify your prompt and retry. To learn more about "
        "our content filtering policies please read our documentation: "
        "https://go.microsoft.com/fwlink/?linkid=2198766",
        "type": None,
        "param": "prompt",
        "code": "content_filter",
        "status": 400,
        "innererror": {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                "hate": {"filtered": False, "severity": "safe"},
                "jailbreak": {"filtered": False, "detected": False},
                "self_harm": {"filtered": False, "severity": "safe"},
                "sexual": {"filtered": False, "severity": "safe"},
                "violence": {"filtered": True, "severity": "medium"},
            },
        },
    }
}


def recorded_body(path: str) -> Any:
    response = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    return json.loads(response["body"]["string"])


def fleet(first: httpx.Response) -> Juggler:
    """openai (or anthropic) refuses; groq answers with its recorded reply."""
    ok = recorded_body("openai/chat_plain.yaml")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.groq.com":
            return httpx.Response(200, json=ok)
        return first

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    env = {"OPENAI_API_KEY": "o", "GROQ_API_KEY": "g", "ANTHROPIC_API_KEY": "a"}
    return Juggler(
        chat=["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "groq/llama-3.1-8b-instant"],
        env=env,
        http_client=client,
        retries_per_target=2,
    )


def attempts(r: Any) -> list[tuple[str, str, str | None]]:
    return [(a.provider, a.outcome, a.error_type) for a in r.models_used]


@pytest.mark.parametrize("body", [OPENAI_POLICY, AZURE_FILTER], ids=["openai", "azure"])
def test_a_content_policy_400_falls_over_to_the_next_target(body: dict[str, Any]) -> None:
    j = fleet(httpx.Response(400, json=body))
    r = j.chat("hi", targets=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"])
    assert attempts(r) == [
        ("openai", "error", "ContentPolicyError"),  # once: a retry would be refused again
        ("groq", "success", None),
    ]
    assert r.models_used[0].status_code == 400
    j.close()


def test_a_claude_refusal_falls_over_to_the_next_target() -> None:
    refusal = {**recorded_body("anthropic/chat_plain.yaml"), "stop_reason": "refusal"}
    j = fleet(httpx.Response(200, json=refusal))
    r = j.chat("hi", targets=["anthropic/claude-sonnet-4-5", "groq/llama-3.1-8b-instant"])
    assert attempts(r) == [
        ("anthropic", "error", "ContentPolicyError"),
        ("groq", "success", None),
    ]
    j.close()


def test_an_answer_withheld_by_the_content_filter_falls_over() -> None:
    withheld = recorded_body("openai/chat_plain.yaml")
    withheld["choices"][0]["message"]["content"] = None
    withheld["choices"][0]["finish_reason"] = "content_filter"
    j = fleet(httpx.Response(200, json=withheld))
    r = j.chat("hi", targets=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"])
    assert attempts(r)[0] == ("openai", "error", "ContentPolicyError")
    assert r.provider == "groq"
    j.close()


def test_a_content_policy_refusal_is_classified_once_as_not_transient() -> None:
    error = classify(400, {}, json.dumps(AZURE_FILTER), provider="azure", model="gpt-4o")
    assert type(error) is ContentPolicyError
    assert error.fallback and not error.transient


def test_content_policy_refusals_do_not_open_the_circuit() -> None:
    breakers = Breakers()
    for _ in range(10):
        permit = breakers.acquire(("openai", "m"), 0.0)
        assert permit is not None
        breakers.record(permit, 0.0, ContentPolicyError("refused", status_code=400))
    assert breakers.state(("openai", "m"), 0.0) == "closed"


def recorded_text(path: str) -> str:
    response = yaml.safe_load((CASSETTES / path).read_text())["interactions"][0]["response"]
    return str(response["body"]["string"])


def test_a_claude_stream_refused_before_any_text_falls_over() -> None:
    events = recorded_text("anthropic/chat_stream.yaml").split("\n\n")
    refused = "\n\n".join(e for e in events if "content_block_delta" not in e).replace(
        '"stop_reason":"end_turn"', '"stop_reason":"refusal"'
    )
    sse = {"content-type": "text/event-stream"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.anthropic.com":
            return httpx.Response(200, text=refused, headers=sse)
        return httpx.Response(200, text=recorded_text("openai/chat_stream.yaml"), headers=sse)

    j = Juggler(
        chat=["anthropic/claude-sonnet-4-5", "groq/llama-3.1-8b-instant"],
        env={"GROQ_API_KEY": "g", "ANTHROPIC_API_KEY": "a"},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    with j.stream_chat("hi") as stream:
        text = "".join(stream)
    assert text
    assert [(a.provider, a.outcome, a.error_type) for a in stream.models_used] == [
        ("anthropic", "error", "ContentPolicyError"),
        ("groq", "success", None),
    ]
    j.close()


def test_a_stream_withheld_by_the_content_filter_before_any_text_falls_over() -> None:
    events = [
        e for e in recorded_text("openai/chat_stream.yaml").split("\n\n") if e.startswith("data:")
    ]
    first = json.loads(events[0].removeprefix("data: "))
    first["choices"][0]["delta"] = {"role": "assistant", "content": ""}
    first["choices"][0]["finish_reason"] = "content_filter"
    withheld = f"data: {json.dumps(first)}\n\ndata: [DONE]\n\n"
    sse = {"content-type": "text/event-stream"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.openai.com":
            return httpx.Response(200, text=withheld, headers=sse)
        return httpx.Response(200, text=recorded_text("openai/chat_stream.yaml"), headers=sse)

    j = Juggler(
        chat=["openai/gpt-4o-mini", "groq/llama-3.1-8b-instant"],
        env={"GROQ_API_KEY": "g", "OPENAI_API_KEY": "o"},
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    with j.stream_chat("hi") as stream:
        text = "".join(stream)
    assert text
    assert [(a.provider, a.outcome, a.error_type) for a in stream.models_used] == [
        ("openai", "error", "ContentPolicyError"),
        ("groq", "success", None),
    ]
    j.close()
