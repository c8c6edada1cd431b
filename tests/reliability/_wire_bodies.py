"""Valid answers of every wire × capability, in the shapes recorded under /work/shared/wire/
(and cassettes/), cut down to the fields the parsers read; plus a harness that serves one body
to one provider through ``httpx.MockTransport`` and returns what the provider made of it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from juggler._config import Settings
from juggler.providers import CATALOG, WIRE_FORMATS, BaseProvider
from juggler.providers.transport import HttpClients
from juggler.providers.types import (
    ChatRequest,
    EmbedRequest,
    RerankRequest,
    SpeakRequest,
    TranscribeRequest,
)

KEY = "LEAKCANARYcere7f3a9b2d4e6c8a0"

CHAT = ChatRequest(messages=[{"role": "user", "content": "hi"}])
EMBED = EmbedRequest(texts=["a", "b"])
RERANK = RerankRequest(query="q", documents=["d0", "d1"])
TRANSCRIBE = TranscribeRequest(audio=b"ID3abc", filename="a.mp3", content_type="audio/mpeg")
SPEAK = SpeakRequest(text="hi")

OPENAI_CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}
_OA = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
OPENAI_STREAM: list[Any] = [
    {**_OA, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
    {**_OA, "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]},
    {**_OA, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        **_OA,
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    },
    "[DONE]",
]
OPENAI_EMBED = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]},
        {"object": "embedding", "index": 1, "embedding": [0.3, 0.4]},
    ],
    "model": "text-embedding-3-small",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
TRANSCRIPTION = {"text": "hello", "language": "english", "duration": 1.5, "segments": []}
RESULTS_RERANK = {
    "model": "rerank-model",
    "results": [{"index": 1, "relevance_score": 0.9}, {"index": 0, "relevance_score": 0.1}],
    "usage": {"total_tokens": 10},
}
NVIDIA_RERANK = {"rankings": [{"index": 1, "logit": 2.5}, {"index": 0, "logit": -1.0}]}
ANTHROPIC_CHAT = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-3-5-haiku-20241022",
    "content": [{"type": "text", "text": "Hi"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 1},
}
ANTHROPIC_STREAM: list[Any] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-3-5-haiku-20241022",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
    {"type": "message_stop"},
]
GEMINI_CHAT = {
    "candidates": [
        {"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "STOP"}
    ],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "totalTokenCount": 6},
    "modelVersion": "gemini-2.0-flash",
}
GEMINI_STREAM: list[Any] = [
    {
        "candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}}],
        "modelVersion": "gemini-2.0-flash",
    },
    GEMINI_CHAT,
]
GEMINI_EMBED = {"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]}
COHERE_CHAT = {
    "id": "c1",
    "finish_reason": "COMPLETE",
    "message": {"role": "assistant", "content": [{"type": "text", "text": "Hi"}]},
    "usage": {
        "billed_units": {"input_tokens": 5, "output_tokens": 1},
        "tokens": {"input_tokens": 10, "output_tokens": 1},
    },
}
COHERE_STREAM: list[Any] = [
    {"type": "message-start", "id": "c1", "delta": {"message": {"role": "assistant"}}},
    {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text"}}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}},
    {"type": "content-end", "index": 0},
    {
        "type": "message-end",
        "delta": {
            "finish_reason": "COMPLETE",
            "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 1}},
        },
    },
]
COHERE_EMBED = {"id": "e1", "embeddings": {"float": [[0.1, 0.2], [0.3, 0.4]]}, "texts": ["a", "b"]}
VOYAGE_EMBED = {**OPENAI_EMBED, "model": "voyage-3", "usage": {"total_tokens": 2}}
VOYAGE_RERANK = {
    "object": "list",
    "data": [{"relevance_score": 0.9, "index": 1}, {"relevance_score": 0.1, "index": 0}],
    "model": "rerank-2",
    "usage": {"total_tokens": 10},
}


@dataclass(frozen=True)
class Case:
    """One wire × capability: the provider row, the model, the request and a valid body."""

    provider: str
    capability: str
    model: str
    request: Any
    body: Any  # a JSON value, a list of stream events, or audio bytes

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.capability}"


CASES = [
    Case("openai", "chat", "gpt-4o-mini", CHAT, OPENAI_CHAT),
    Case("openai", "stream", "gpt-4o-mini", CHAT, OPENAI_STREAM),
    Case("openai", "embed", "text-embedding-3-small", EMBED, OPENAI_EMBED),
    Case("openai", "transcribe", "whisper-1", TRANSCRIBE, TRANSCRIPTION),
    Case("openai", "speak", "tts-1", SPEAK, b"ID3\x04\x00audio-bytes"),
    Case("together", "rerank", "Salesforce/Llama-Rank-V1", RERANK, RESULTS_RERANK),
    Case("nvidia", "rerank", "nvidia/rerank-qa-mistral-4b", RERANK, NVIDIA_RERANK),
    Case("anthropic", "chat", "claude-3-5-haiku-latest", CHAT, ANTHROPIC_CHAT),
    Case("anthropic", "stream", "claude-3-5-haiku-latest", CHAT, ANTHROPIC_STREAM),
    Case("google", "chat", "gemini-2.0-flash", CHAT, GEMINI_CHAT),
    Case("google", "stream", "gemini-2.0-flash", CHAT, GEMINI_STREAM),
    Case("google", "embed", "text-embedding-004", EMBED, GEMINI_EMBED),
    Case("cohere", "chat", "command-r", CHAT, COHERE_CHAT),
    Case("cohere", "stream", "command-r", CHAT, COHERE_STREAM),
    Case("cohere", "embed", "embed-v4.0", EMBED, COHERE_EMBED),
    Case("cohere", "rerank", "rerank-v3.5", RERANK, RESULTS_RERANK),
    Case("voyage", "embed", "voyage-3", EMBED, VOYAGE_EMBED),
    Case("voyage", "rerank", "rerank-2", RERANK, VOYAGE_RERANK),
    Case("jina", "embed", "jina-embeddings-v3", EMBED, OPENAI_EMBED),
    Case("jina", "rerank", "jina-reranker-v2-base-multilingual", RERANK, RESULTS_RERANK),
]
BY_ID = {case.id: case for case in CASES}


def sse(events: list[Any], wire: str) -> bytes:
    """Stream events as an SSE body (Anthropic and Cohere name each event by its type)."""
    out = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        name = event.get("type") if isinstance(event, dict) and wire != "openai" else None
        head = f"event: {name}\n" if isinstance(name, str) and wire == "anthropic" else ""
        out.append(f"{head}data: {data}\n\n")
    return "".join(out).encode()


def response_for(case: Case, body: Any, status: int = 200) -> httpx.Response:
    """The HTTP answer carrying ``body`` for ``case``'s capability."""
    if case.capability == "stream":
        wire = CATALOG[case.provider].wire
        content = body if isinstance(body, bytes) else sse(body, wire)
        return httpx.Response(
            status, content=content, headers={"content-type": "text/event-stream"}
        )
    if case.capability == "speak" and isinstance(body, bytes):
        return httpx.Response(status, content=body, headers={"content-type": "audio/mpeg"})
    content = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    return httpx.Response(status, content=content, headers={"content-type": "application/json"})


def provider_for(case: Case, handler: Any) -> BaseProvider:
    """``case``'s provider, talking to ``handler`` through an httpx.MockTransport."""
    spec = CATALOG[case.provider]
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    clients = HttpClients(Settings(), user_client=client)
    provider: BaseProvider = WIRE_FORMATS[spec.wire](
        spec, api_key=KEY, base_url=spec.base_url, clients=clients
    )
    return provider


async def _call(case: Case, provider: BaseProvider) -> Any:
    if case.capability == "stream":
        return [d async for d in provider.stream_chat(case.model, case.request)]
    method = getattr(provider, case.capability)
    return await method(case.model, case.request)


def run(case: Case, response: httpx.Response) -> Any:
    """What ``case``'s provider returns (or raises) for ``response``."""

    def handler(request: httpx.Request) -> httpx.Response:
        return response

    return asyncio.run(_call(case, provider_for(case, handler)))
