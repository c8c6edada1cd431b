"""The OpenAI wire format: chat completions (plain and SSE), embeddings, audio.

Spoken by openai, groq, cerebras, nvidia, together, moonshot, mistral, deepseek, openrouter
and any server given a ``base_url``. Vendor quirks (Groq's ``x_groq.usage``, Mistral's lack of
``stream_options``) are handled by reading the shapes, not by naming the vendor.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .._errors import InvalidResponseError
from .._requests import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    EmbedRequest,
    EmbedResult,
    SpeakRequest,
    SpeechResult,
    ToolCallDelta,
    TranscribeRequest,
    TranscriptionResult,
)
from .._types import ToolCall, Usage
from .base import BaseProvider, register_wire

__all__ = ["OpenAICompatProvider", "parse_tool_arguments", "usage_from_openai"]

_AUDIO_MIME = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


def usage_from_openai(raw: Any) -> Usage | None:
    """Usage from an OpenAI-shaped ``usage`` object (None when absent)."""
    if not isinstance(raw, dict):
        return None
    return Usage.of(raw.get("prompt_tokens"), raw.get("completion_tokens"), raw.get("total_tokens"))


def parse_tool_arguments(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool-call arguments arrive as a JSON string; an empty string means no arguments."""
    if isinstance(text, dict):
        return text
    if not text or not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("tool arguments are not a JSON object")
    return value


@register_wire
class OpenAICompatProvider(BaseProvider):
    """Chat completions, embeddings, transcription and speech over the OpenAI wire format."""

    wire = "openai"

    def chat_payload(self, model: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
        """The JSON body of ``POST /chat/completions``."""
        payload: dict[str, Any] = {"model": model, "messages": request.messages}
        optional = {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "top_p": request.top_p,
            "stop": request.stop or None,
            "tools": request.tools,
            "tool_choice": request.tool_choice,
            "response_format": request.response_format,
            "seed": request.seed,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        if stream:
            payload["stream"] = True
            # Some vendors' schemas reject unknown fields (additionalProperties: false);
            # they send usage on their last chunk anyway.
            if "no_stream_options" not in self.spec.wire_options:
                payload["stream_options"] = {"include_usage": True}
        payload.update(request.extra_body)
        return payload

    async def chat(self, model: str, request: ChatRequest) -> ChatResult:
        """``POST /chat/completions`` and parse the first choice."""
        body = await self.post_json(
            "/chat/completions", self.chat_payload(model, request, False), model=model
        )
        try:
            choice = body["choices"][0]
            message = choice.get("message") or {}
            calls = [
                ToolCall(
                    id=tc.get("id") or f"call_{i}",
                    name=tc["function"]["name"],
                    arguments=parse_tool_arguments(tc["function"].get("arguments")),
                )
                for i, tc in enumerate(message.get("tool_calls") or [])
            ]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError,
                f"unexpected chat answer shape: {exc!r}",
                model,
                status_code=200,
            ) from exc
        usage = usage_from_openai(body.get("usage")) or Usage()
        return ChatResult(
            content=message.get("content") or "",
            model=body.get("model") or model,
            tool_calls=calls,
            usage=usage,
            finish_reason=choice.get("finish_reason"),
            raw=body,
        )

    async def stream_chat(self, model: str, request: ChatRequest) -> AsyncIterator[ChatDelta]:
        """SSE chat: text and tool-call deltas, then usage (own chunk or ``x_groq``)."""
        payload = self.chat_payload(model, request, True)
        async for event in self.post_sse("/chat/completions", payload, model=model):
            if event.data.strip() == "[DONE]":
                return
            if not event.data.strip():
                continue
            chunk = self.sse_json(event, model)
            usage = usage_from_openai(chunk.get("usage")) or usage_from_openai(
                (chunk.get("x_groq") or {}).get("usage")
            )
            delta = ChatDelta(usage=usage, model=chunk.get("model"))
            for choice in chunk.get("choices") or []:
                d = choice.get("delta") or {}
                delta.text += d.get("content") or ""
                for tc in d.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    delta.tool_calls.append(
                        ToolCallDelta(
                            index=tc.get("index", 0),
                            id=tc.get("id"),
                            name=fn.get("name"),
                            arguments=fn.get("arguments") or "",
                        )
                    )
                if choice.get("finish_reason"):
                    delta.finish_reason = choice["finish_reason"]
            yield delta

    async def embed(self, model: str, request: EmbedRequest) -> EmbedResult:
        """``POST /embeddings``; vectors are put back in input order by their ``index``."""
        payload: dict[str, Any] = {
            "model": model,
            "input": request.texts,
            "encoding_format": "float",
        }
        if request.dimensions is not None:
            payload["dimensions"] = request.dimensions
        if request.input_type and self.embed_needs_input_type():
            payload["input_type"] = "query" if request.input_type == "query" else "passage"
        body = await self.post_json("/embeddings", payload, model=model)
        try:
            rows = sorted(body["data"], key=lambda row: row.get("index", 0))
            vectors = [list(map(float, row["embedding"])) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(
                InvalidResponseError, f"unexpected embeddings shape: {exc!r}", model
            ) from exc
        if len(vectors) != len(request.texts):
            raise self._error(
                InvalidResponseError,
                f"asked for {len(request.texts)} vectors, got {len(vectors)}",
                model,
            )
        usage = body.get("usage") or {}
        return EmbedResult(
            vectors=vectors,
            model=body.get("model") or model,
            usage=Usage.of(usage.get("prompt_tokens"), None, usage.get("total_tokens")),
        )

    def embed_needs_input_type(self) -> bool:
        """NVIDIA's retrieval embedders require ``input_type`` (query or passage)."""
        return "input_type" in self.spec.wire_options

    async def transcribe(self, model: str, request: TranscribeRequest) -> TranscriptionResult:
        """``POST /audio/transcriptions`` with ``verbose_json`` for language and duration."""
        data: dict[str, Any] = {"model": model, "response_format": "verbose_json"}
        if request.language:
            data["language"] = request.language
        if request.prompt:
            data["prompt"] = request.prompt
        files = {"file": (request.filename, request.audio, request.content_type)}
        body = await self.post_multipart("/audio/transcriptions", data, files, model=model)
        if not isinstance(body, dict) or "text" not in body:
            raise self._error(InvalidResponseError, "transcription answer has no text", model)
        duration = body.get("duration")
        return TranscriptionResult(
            text=body["text"],
            model=model,
            language=body.get("language"),
            duration=float(duration) if duration is not None else None,
            segments=body.get("segments"),
        )

    async def speak(self, model: str, request: SpeakRequest) -> SpeechResult:
        """``POST /audio/speech``; the answer is the audio itself."""
        payload: dict[str, Any] = {
            "model": model,
            "input": request.text,
            "voice": request.voice or self.spec.default_voice or "alloy",
            "response_format": request.format,
        }
        if request.speed is not None:
            payload["speed"] = request.speed
        audio, content_type = await self.post_for_bytes("/audio/speech", payload, model=model)
        if content_type == "application/octet-stream":
            content_type = _AUDIO_MIME.get(request.format, content_type)
        return SpeechResult(audio=audio, content_type=content_type, model=model)
