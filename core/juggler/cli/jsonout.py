"""``--json``: each command's answer as one JSON object on stdout, for scripts.

Every object carries the answer, ``provider``/``model`` (who answered) and ``models_used``
(every attempt, as ``ModelAttempt`` fields). Nothing else is written to stdout when
``--json`` is given: tables and notes are left out, and errors still go to stderr as one
line. A call that fails on every provider prints ``{"error": …, "models_used": […]}`` and
exits 1, so a script sees what was tried.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from juggler._attempts import ModelAttempt
from juggler._exceptions import JugglerError
from juggler._types import Capability
from juggler.cli.tables import ProbeResult
from juggler.providers.catalog import CATALOG

__all__ = [
    "attempts_json",
    "chat_json",
    "embed_json",
    "emit",
    "failure_json",
    "health_json",
    "providers_json",
    "rerank_json",
    "speech_json",
    "transcript_json",
]


def emit(obj: Any) -> None:
    """Write one JSON document (and a newline) to stdout."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def attempts_json(attempts: Iterable[ModelAttempt | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``models_used`` as a list of plain dicts."""
    out = []
    for attempt in attempts:
        if isinstance(attempt, ModelAttempt):
            out.append(attempt.model_dump(mode="json"))
        else:
            out.append(dict(attempt))
    return out


def _usage(answer: Any) -> dict[str, Any] | None:
    usage = getattr(answer, "usage", None)
    dump = getattr(usage, "model_dump", None)
    return dict(dump(mode="json")) if callable(dump) else None


def _meta(answer: Any) -> dict[str, Any]:
    return {
        "provider": getattr(answer, "provider", None),
        "model": getattr(answer, "model", None),
        "models_used": attempts_json(getattr(answer, "models_used", [])),
    }


def chat_json(answer: Any) -> dict[str, Any]:
    """A chat answer (a ``ChatResponse`` or a finished stream)."""
    content = getattr(answer, "content", None)
    if content is None:
        content = getattr(answer, "text", "")
    calls = getattr(answer, "tool_calls", None) or []
    return {
        "content": content,
        "finish_reason": getattr(answer, "finish_reason", None),
        "tool_calls": [c.model_dump(mode="json") if hasattr(c, "model_dump") else c for c in calls],
        "usage": _usage(answer),
        **_meta(answer),
    }


def embed_json(vectors: Any) -> dict[str, Any]:
    """Embeddings, vectors included."""
    return {
        "embeddings": [list(v) for v in vectors],
        "dimensions": getattr(vectors, "dimensions", None),
        "usage": _usage(vectors),
        **_meta(vectors),
    }


def rerank_json(ranked: Any) -> dict[str, Any]:
    """Documents best first, with their score and index in the input."""
    rows = [
        {"rank": rank, "index": index, "score": score, "document": doc}
        for rank, (doc, score, index) in enumerate(
            zip(ranked, ranked.scores, ranked.indices, strict=True), start=1
        )
    ]
    return {"results": rows, "usage": _usage(ranked), **_meta(ranked)}


def transcript_json(text: Any) -> dict[str, Any]:
    """A transcript with its language, duration and segments when the provider gave them."""
    return {
        "text": getattr(text, "text", str(text)),
        "language": getattr(text, "language", None),
        "duration": getattr(text, "duration", None),
        "segments": getattr(text, "segments", None),
        **_meta(text),
    }


def speech_json(audio: Any, output: Path) -> dict[str, Any]:
    """Where the audio went (the bytes stay in the file)."""
    return {
        "output": str(output),
        "bytes": len(audio),
        "content_type": getattr(audio, "content_type", None),
        **_meta(audio),
    }


def failure_json(exc: JugglerError) -> dict[str, Any]:
    """A failed call: the error and every attempt."""
    return {
        "error": {"type": type(exc).__name__, "message": " ".join(str(exc).split())},
        "models_used": attempts_json(getattr(exc, "models_used", [])),
    }


def providers_json(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """The catalogue as rows: key set or not (never its value), models, tier, base URL."""
    rows = []
    for name, spec in CATALOG.items():
        override = env.get(spec.base_url_env)
        rows.append(
            {
                "provider": name,
                "key_set": bool(env.get(spec.api_key_env)),
                "api_key_env": spec.api_key_env,
                "tier": spec.tier,
                "wire": spec.wire,
                "models": {cap.value: spec.models[cap] for cap in Capability if cap in spec.models},
                "base_url": override or spec.base_url,
            }
        )
    return rows


def health_json(results: Sequence[ProbeResult]) -> dict[str, Any]:
    """Probe results, and the providers per state."""
    return {
        "providers": [r.to_json() for r in results],
        "ok": [r.provider for r in results if r.state == "ok"],
        "rate_limited": [r.provider for r in results if r.state == "rate limited"],
        "down": [r.provider for r in results if r.state == "down"],
    }
