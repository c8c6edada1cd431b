"""``ChatJuggler.with_structured_output``: answers parsed into a schema, by a forced tool
call (the default: every chat provider in the catalogue supports it, so fallback never changes
the method), ``response_format`` json_schema, or json_mode."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import BaseModel

from ._convert import json_schema_format

__all__ = ["StructuredMethod", "structured_output"]

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]


def structured_output(
    model: BaseChatModel,
    schema: dict[str, Any] | type,
    method: StructuredMethod,
    *,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
    """``model`` bound to answer in ``schema``, followed by the matching parser."""
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    trace_format = {"kwargs": {"method": method, "strict": strict}, "schema": schema}
    llm: Runnable[Any, Any]
    parser: Runnable[Any, Any]
    if method == "function_calling":
        name = convert_to_openai_tool(schema)["function"]["name"]
        llm = model.bind_tools(
            [schema], tool_choice=name, strict=strict, ls_structured_output_format=trace_format
        )
        parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
            if is_pydantic
            else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
        )
    elif method in ("json_schema", "json_mode"):
        response_format = (
            json_schema_format(convert_to_json_schema(schema), strict)
            if method == "json_schema"
            else {"type": "json_object"}
        )
        llm = model.bind(response_format=response_format, ls_structured_output_format=trace_format)
        parser = (
            PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type]
            if is_pydantic
            else JsonOutputParser()
        )
    else:
        raise ValueError(
            f"method must be 'function_calling', 'json_schema' or 'json_mode', got {method!r}"
        )
    if not include_raw:
        return llm | parser
    parse_raw = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse_raw.with_fallbacks(
        [no_parse], exception_key="parsing_error"
    )
