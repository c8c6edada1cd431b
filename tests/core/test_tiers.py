"""Tiers, preferences and the context-window check decide which targets a call tries."""

from __future__ import annotations

import pytest
from _resilience_fakes import VirtualTime, outcomes, scripted_juggler

from juggler import InvalidRequestError, Target
from juggler._routing.plan import plan_chain
from juggler.testing import FakeHttpError

A1 = Target(provider="a", model="m", tier=1)
B2 = Target(provider="b", model="m", tier=2)
C3 = Target(provider="c", model="m", tier=3)
CHAIN = [A1, B2, C3]


def names(targets):
    return [t.provider for t in targets]


def test_tier_keeps_only_that_tier():
    assert names(plan_chain(CHAIN, tier=2).targets) == ["b"]


def test_tier_neighbours_add_the_adjacent_tiers_after_the_exact_one():
    assert names(plan_chain(CHAIN, tier=1, tier_neighbours=True).targets) == ["a", "b"]
    assert names(plan_chain(CHAIN, tier=2, tier_neighbours=True).targets) == ["b", "a", "c"]


def test_a_tier_no_target_has_is_a_clear_error():
    with pytest.raises(InvalidRequestError, match="no target has tier 3"):
        plan_chain([A1, B2], tier=3)


def test_a_tier_outside_one_to_three_is_refused():
    with pytest.raises(InvalidRequestError, match="tier must be 1, 2 or 3"):
        plan_chain(CHAIN, tier=4)


def test_preferred_provider_moves_to_the_front():
    assert names(plan_chain(CHAIN, preferred_provider="c").targets) == ["c", "a", "b"]


def test_preferred_model_of_a_provider_is_added_at_the_front():
    plan = plan_chain(CHAIN, preferred_provider="b", preferred_model="big")
    assert [str(t) for t in plan.targets] == ["b/big", "a/m", "b/m", "c/m"]


def test_a_target_whose_context_window_is_too_small_is_skipped_with_the_reason():
    small = Target(provider="a", model="m", context_window=100)
    plan = plan_chain([small, B2], prompt_tokens=90, max_tokens=50)
    assert names(plan.targets) == ["b"]
    assert plan.skipped == [(small, "context window 100 < ~140 tokens needed")]


def test_tier_through_the_juggler_routes_to_that_tier():
    vt = VirtualTime()
    juggler, _ = scripted_juggler(["a/m", "b/m", "c/m"], vt)
    response = vt.run(juggler.achat("hi", targets=CHAIN, tier=3))
    assert outcomes(response) == [("c", "success")]


def test_tier_neighbours_is_a_juggler_option():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m", "c/m"], vt, tier_neighbours=True)
    fakes["c"].plan(then=FakeHttpError(500))
    response = vt.run(juggler.achat("hi", targets=CHAIN, tier=3))
    assert outcomes(response) == [("c", "error"), ("b", "success")]


def test_the_context_window_skip_shows_in_models_used():
    vt = VirtualTime()
    juggler, fakes = scripted_juggler(["a/m", "b/m"], vt)
    small = Target(provider="a", model="m", context_window=50)
    response = vt.run(juggler.achat("x" * 400, targets=[small, "b/m"]))
    assert outcomes(response) == [("a", "skipped"), ("b", "success")]
    assert response.models_used[0].error.startswith("context window 50 <")
    assert len(fakes["a"].calls) == 0


SEED_TIERS = {"groq": 1, "together": 1, "openai": 2, "google": 2, "anthropic": 3, "moonshot": 3}


def test_catalogue_tiers_follow_the_seed_table():
    from juggler import CATALOG

    assert {name: CATALOG[name].tier for name in SEED_TIERS} == SEED_TIERS


def test_tier_three_of_the_seed_providers_keeps_anthropic_and_moonshot():
    from juggler import CATALOG
    from juggler._routing.plan import resolve_target

    chain = [
        resolve_target(Target(provider=name, model=CATALOG[name].models["chat"]), CATALOG[name])
        for name in SEED_TIERS
    ]
    assert names(plan_chain(chain, tier=3).targets) == ["anthropic", "moonshot"]


def test_every_catalogued_provider_has_its_tier_and_reason_in_the_readme():
    from pathlib import Path

    from juggler import CATALOG

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("| provider | tier | why |", 1)[1].split("\n\n", 1)[0]
    rows = {
        cells[0]: cells
        for line in table.splitlines()
        if (cells := [c.strip() for c in line.strip("|").split("|")]) and cells[0] in CATALOG
    }
    for name, spec in CATALOG.items():
        assert name in rows, f"README tier table has no row for {name}"
        assert rows[name][1] == str(spec.tier) and rows[name][2], rows[name]
