"""LangChain wraps and re-instantiates models (bind_tools, with_config, configurable_fields):
none of that may build a Juggler per call, which would leak a loop thread and connection
pools each time and start every call with fresh circuit breakers."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import ConfigurableField

import juggler._adapters as construct
from juggler import Juggler
from juggler.testing import FakeProvider
from langchain_juggler import ChatJuggler


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[Juggler]:
    """Every Juggler the adapters build from now on."""
    made: list[Juggler] = []

    class Counting(Juggler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(construct, "Juggler", Counting)
    return made


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider("fake-copies")


def _llm(fake: FakeProvider) -> ChatJuggler:
    return ChatJuggler(targets=["fake-copies/m"], providers=fake.config(), env={})


def test_bound_and_configured_wrappers_reuse_the_models_juggler(
    built: list[Juggler], fake: FakeProvider
) -> None:
    llm = _llm(fake)
    llm.bind_tools([{"name": "noop", "description": "x", "parameters": {}}]).invoke("hi")
    llm.with_config(tags=["t"]).invoke("hi")
    llm.with_structured_output({"title": "J", "type": "object"}, method="json_mode")
    assert len(built) == 1
    llm.close()


def test_configurable_fields_calls_share_the_juggler_and_apply_the_value(
    built: list[Juggler], fake: FakeProvider
) -> None:
    llm = _llm(fake)
    configurable = llm.configurable_fields(temperature=ConfigurableField(id="temperature"))
    for value in (0.1, 0.7):
        configurable.invoke("hi", config={"configurable": {"temperature": value}})
    assert len(built) == 1
    assert [call.request.temperature for call in fake.calls] == [0.1, 0.7]
    assert llm.invoke("the configured copies left it open").content
    llm.close()


def test_configuring_the_chain_still_builds_a_juggler_for_it(
    built: list[Juggler], fake: FakeProvider
) -> None:
    other = FakeProvider("fake-copies-b")
    llm = ChatJuggler(
        targets=["fake-copies/m"], providers={**fake.config(), **other.config()}, env={}
    )
    configurable = llm.configurable_fields(targets=ConfigurableField(id="targets"))
    msg = configurable.invoke("hi", config={"configurable": {"targets": ["fake-copies-b/m"]}})
    assert msg.response_metadata["model_provider"] == "fake-copies-b"
    assert len(built) == 2
    llm.close()
    built[1].close()
