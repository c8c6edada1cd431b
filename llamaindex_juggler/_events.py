"""The adapter's own instrumentation event, carrying ``models_used`` to LlamaIndex handlers.

LlamaIndex's ``EmbeddingEndEvent`` and ``ReRankEndEvent`` have no metadata field, so the
embedding and rerank adapters dispatch a :class:`ModelsUsedEvent` inside the call's span
(its ``span_id`` ties it to the call). The LLM adapter dispatches one too, next to
``LLMChatEndEvent`` / ``LLMCompletionEndEvent``, so one handler can watch every component.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import llama_index.core.instrumentation as instrument
from llama_index.core.instrumentation.events import BaseEvent

from juggler import ModelAttempt
from juggler._adapters import models_used_dicts

__all__ = ["ModelsUsedEvent", "dispatch_models_used", "models_used_dicts"]

dispatcher = instrument.get_dispatcher(__name__)


class ModelsUsedEvent(BaseEvent):
    """Every attempt of one Juggler call, in order, as plain dicts.

    Attributes:
        component: ``"llm"``, ``"embedding"`` or ``"rerank"``.
        models_used: ``[dict(attempt) for attempt in response.models_used]``.
        success: False when the call ended in ``AllProvidersFailedError``.
        provider: the provider that answered (None on failure).
        model: the model that answered (None on failure).
    """

    component: str
    models_used: list[dict[str, Any]]
    success: bool = True
    provider: str | None = None
    model: str | None = None

    @classmethod
    def class_name(cls) -> str:
        """Class name, as LlamaIndex events report it."""
        return "ModelsUsedEvent"


def dispatch_models_used(
    component: str,
    attempts: Sequence[ModelAttempt],
    *,
    success: bool = True,
    provider: str | None = None,
    model: str | None = None,
    span_id: str | None = None,
) -> list[dict[str, Any]]:
    """Dispatch a :class:`ModelsUsedEvent` and return the dicts it carried."""
    used = models_used_dicts(attempts)
    event = ModelsUsedEvent(
        component=component, models_used=used, success=success, provider=provider, model=model
    )
    if span_id is not None:  # streams end after their span closed: keep the call's span id
        event.span_id = span_id
    dispatcher.event(event)
    return used
