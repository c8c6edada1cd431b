"""Regression tests from the simulator review: its answers are framed like the recordings in
``shared/wire`` (line endings, content types), and the retrieval wires share one ranking."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from juggler import Juggler
from juggler.testing import ProviderSimulator, Scenario
from juggler.testing.wires.base import document_texts, ranked_documents, sse


@pytest.fixture(scope="module")
def sim() -> Iterator[ProviderSimulator]:
    with ProviderSimulator(
        {
            "google": Scenario(),
            "anthropic": Scenario(),
            "together": Scenario(),
            "cohere": Scenario(),
            "voyage": Scenario(),
            "jina": Scenario(),
        }
    ) as simulator:
        yield simulator


def test_gemini_stream_events_end_with_crlf_as_recorded(sim: ProviderSimulator) -> None:
    # shared/wire/google/stream_generate_content/chatlas/...: 'data: {...}\r\n\r\n'
    url = sim.base_url("google") + "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "tell me a story"}]}]}
    raw = httpx.post(url, params={"alt": "sse"}, json=body).content
    assert raw.startswith(b"data: {")
    assert raw.endswith(b"}\r\n\r\n")
    assert b"}\n\ndata" not in raw


def test_a_juggler_reads_the_crlf_framed_gemini_stream(sim: ProviderSimulator) -> None:
    j = Juggler(chat=["google/gemini-2.5-flash"], providers=sim.providers_config(), env={})
    stream = j.stream_chat("tell me a story")
    text = "".join(stream)
    j.close()
    assert text and stream.finish_reason == "stop"
    assert stream.usage is not None and stream.usage.output_tokens


def test_anthropic_stream_content_type_carries_a_charset(sim: ProviderSimulator) -> None:
    # shared/wire/anthropic/messages/llm-anthropic/test_prompt.yaml
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 50,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    with httpx.stream("POST", sim.base_url("anthropic") + "/v1/messages", json=body) as r:
        r.read()
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"


def test_sse_lines_end_with_the_chosen_line_ending() -> None:
    assert sse({"a": 1}, "ping") == b'event: ping\ndata: {"a":1}\n\n'
    assert sse({"a": 1}, eol="\r\n") == b'data: {"a":1}\r\n\r\n'


def test_documents_read_as_text_whatever_their_shape() -> None:
    assert document_texts("one") == ["one"]
    assert document_texts(["a", {"text": "b"}, {"title": "c", "body": "d"}]) == ["a", "b", "c d"]


def test_ranking_is_cut_to_the_requested_top_n() -> None:
    body = {"query": "cats purr", "documents": ["dogs bark", "cats purr loudly", "fish"]}
    docs, ranked = ranked_documents({**body, "top_n": 1}, "top_n")
    assert docs == body["documents"]
    assert [i for i, _ in ranked] == [1]


def test_every_rerank_wire_ranks_the_same_documents_the_same_way(sim: ProviderSimulator) -> None:
    chains = [
        "together/Salesforce/Llama-Rank-V1",
        "cohere/rerank-v3.5",
        "voyage/rerank-2.5",
        "jina/jina-reranker-v2-base-multilingual",
    ]
    docs = ["dogs bark", "cats purr loudly", "fish swim", "cats purr"]
    orders = []
    for target in chains:
        j = Juggler(rerank=[target], providers=sim.providers_config(), env={})
        top = j.rerank("cats purr", docs, top_k=2)
        j.close()
        orders.append(list(top.indices))
    assert all(order == orders[0] for order in orders)
    assert len(orders[0]) == 2
