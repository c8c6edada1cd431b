"""Structured output through ``response_format`` json_schema (``structured_output_method``).

The default path needs nothing here: LlamaIndex's FunctionCallingProgram forces a tool call
through ``chat_with_tools``. This module builds the other request, a JSON-schema answer, and
wraps it in the structured-predict events LlamaIndex's own path dispatches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.llms.llm import LLM
from llama_index.core.prompts import BasePromptTemplate
from pydantic import BaseModel

__all__ = ["parse", "schema_request", "structured_events"]

dispatcher = get_dispatcher(__name__)


def schema_request(
    llm: LLM,
    output_cls: type[BaseModel],
    prompt: BasePromptTemplate,
    llm_kwargs: dict[str, Any] | None,
    prompt_args: dict[str, Any],
) -> tuple[list[ChatMessage], dict[str, Any]]:
    """The messages and chat kwargs asking for JSON valid against ``output_cls``'s schema."""
    messages = llm._extend_messages(prompt.format_messages(**prompt_args))
    kwargs = {k: v for k, v in (llm_kwargs or {}).items() if k != "tool_choice"}
    kwargs["response_format"] = {
        "type": "json_schema",
        "json_schema": {
            "name": re.sub(r"[^a-zA-Z0-9_-]", "_", output_cls.__name__),  # OpenAI's name rule
            "schema": output_cls.model_json_schema(),
        },
    }
    return messages, kwargs


@contextmanager
def structured_events(
    output_cls: type[BaseModel], prompt: BasePromptTemplate, prompt_args: dict[str, Any]
) -> Iterator[list[BaseModel]]:
    """Dispatch the start event now and the end event with the result appended to the list."""
    dispatcher.event(
        LLMStructuredPredictStartEvent(
            output_cls=output_cls, template=prompt, template_args=prompt_args
        )
    )
    out: list[BaseModel] = []
    yield out
    dispatcher.event(LLMStructuredPredictEndEvent(output=out[0]))


def parse(output_cls: type[BaseModel], response: ChatResponse) -> Any:
    """The answer's JSON as an ``output_cls`` (pydantic's ValidationError when it is not)."""
    return output_cls.model_validate_json(response.message.content or "")
