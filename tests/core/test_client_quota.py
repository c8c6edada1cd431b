"""Client-side rpm/tpm caps per target, through the limits library."""

from __future__ import annotations

import pytest

from juggler import InvalidRequestError
from juggler._policy.quota import ClientQuota
from juggler._types import Target


def test_rpm_cap_skips_the_target_once_reached() -> None:
    quota = ClientQuota()
    target = Target(provider="groq", model="m", rpm=2)
    assert quota.acquire(target) and quota.acquire(target)
    assert quota.blocked(target) == "rate limit: rpm cap 2 reached (client side)"
    assert not quota.acquire(target)


def test_tpm_cap_counts_the_request_estimate() -> None:
    quota = ClientQuota()
    target = Target(provider="groq", model="m", tpm=1000)
    assert quota.acquire(target, tokens=800)
    assert quota.blocked(target, tokens=300) is not None
    assert quota.blocked(target, tokens=100) is None


def test_usage_beyond_the_estimate_is_charged() -> None:
    quota = ClientQuota()
    target = Target(provider="groq", model="m", tpm=1000)
    quota.acquire(target, tokens=100)
    quota.correct(target, estimated=100, actual=950)
    assert quota.blocked(target, tokens=100) is not None


def test_targets_without_caps_are_never_blocked() -> None:
    quota = ClientQuota()
    target = Target(provider="groq", model="m")
    assert all(quota.acquire(target, tokens=10**6) for _ in range(50))


def test_caps_without_the_limits_package_say_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "limits", None)
    with pytest.raises(InvalidRequestError, match=r"pip install 'juggler\[limits\]'"):
        ClientQuota()
