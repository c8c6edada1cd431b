"""Each wire's usage parser keeps the cached prompt tokens the wire reports.

Field names from the wire specs in shared/wire: OpenAI ``prompt_tokens_details.cached_tokens``,
Anthropic ``cache_read_input_tokens`` / ``cache_creation_input_tokens``, Gemini
``cachedContentTokenCount``.
"""

from __future__ import annotations

from juggler.providers._anthropic_convert import usage_from_anthropic
from juggler.providers._google_convert import usage_from_gemini
from juggler.providers.openai import usage_from_openai


def test_openai_cached_tokens_come_from_prompt_tokens_details() -> None:
    raw = {
        "prompt_tokens": 2006,
        "completion_tokens": 300,
        "total_tokens": 2306,
        "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    }
    usage = usage_from_openai(raw)
    assert usage is not None
    assert (usage.input_tokens, usage.cached_tokens, usage.output_tokens) == (2006, 1920, 300)


def test_deepseek_cache_hit_tokens_count_as_cached() -> None:
    raw = {"prompt_tokens": 100, "completion_tokens": 1, "prompt_cache_hit_tokens": 64}
    usage = usage_from_openai(raw)
    assert usage is not None and usage.cached_tokens == 64


def test_zero_cached_tokens_mean_no_cache() -> None:
    raw = {
        "prompt_tokens": 9,
        "completion_tokens": 1,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    usage = usage_from_openai(raw)
    assert usage is not None and usage.cached_tokens is None


def test_anthropic_cache_reads_and_writes_are_kept_and_part_of_input() -> None:
    raw = {
        "input_tokens": 5,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 20,
        "output_tokens": 7,
    }
    usage = usage_from_anthropic(raw)
    assert usage is not None
    assert (usage.input_tokens, usage.cached_tokens, usage.cache_write_tokens) == (125, 100, 20)


def test_anthropic_stream_delta_keeps_the_cache_counts_of_message_start() -> None:
    start = usage_from_anthropic(
        {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 1}
    )
    end = usage_from_anthropic({"output_tokens": 42}, start)
    assert end is not None
    assert (end.input_tokens, end.cached_tokens, end.output_tokens) == (105, 100, 42)


def test_gemini_cached_content_token_count_is_kept() -> None:
    raw = {
        "promptTokenCount": 1200,
        "cachedContentTokenCount": 1024,
        "candidatesTokenCount": 30,
        "totalTokenCount": 1230,
    }
    usage = usage_from_gemini(raw)
    assert usage is not None
    assert (usage.input_tokens, usage.cached_tokens, usage.output_tokens) == (1200, 1024, 30)
