"""Parsing chains whose positions are groups of deployments."""

from __future__ import annotations

import pytest

from juggler import InvalidRequestError
from juggler._routing.groups import Group, flatten, parse_chain
from juggler._types import Target


def test_a_group_position_carries_weights_and_caps() -> None:
    chain = parse_chain(
        [
            {
                "group": ["openai/gpt-4o-mini", {"target": "azure/gpt-4o-mini", "weight": 2}],
                "strategy": "weighted",
            },
            {"target": "groq/llama-3.1-8b-instant", "rpm": 30, "tpm": 6000},
        ]
    )
    group, plain = chain
    assert isinstance(group, Group) and group.strategy == "weighted"
    assert [m.weight for m in group.members] == [None, 2]
    assert all(m.group == group.name for m in group.members)
    assert isinstance(plain, Target) and (plain.rpm, plain.tpm) == (30, 6000)


def test_flatten_expands_groups_in_place() -> None:
    chain = parse_chain([{"group": ["a/x", "b/x"]}, "c/y"])
    assert [str(t) for t in flatten(chain)] == ["a/x", "b/x", "c/y"]


def test_plain_strings_parse_as_today() -> None:
    assert parse_chain(["groq/llama-3.1-8b-instant"]) == [
        Target(provider="groq", model="llama-3.1-8b-instant")
    ]


def test_a_misspelt_strategy_suggests_the_right_one() -> None:
    with pytest.raises(InvalidRequestError, match=r"chat\[0\].strategy.*did you mean 'weighted'"):
        parse_chain([{"group": ["a/x", "b/x"], "strategy": "weigthed"}], where="chat")


def test_a_misspelt_member_key_names_its_position() -> None:
    with pytest.raises(InvalidRequestError, match=r"chain\[0\].group\[1\].*did you mean 'weight'"):
        parse_chain([{"group": ["a/x", {"target": "b/x", "wieght": 2}]}])


def test_a_bad_weight_names_the_key() -> None:
    with pytest.raises(InvalidRequestError, match=r"chain\[0\].weight"):
        parse_chain([{"target": "a/x", "weight": 0}])


def test_the_same_deployment_twice_in_a_group_is_refused() -> None:
    with pytest.raises(InvalidRequestError, match="appears twice"):
        parse_chain([{"group": ["a/x", "a/x"]}])


def test_nested_groups_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="cannot be nested"):
        parse_chain([{"group": [{"group": ["a/x"]}]}])
