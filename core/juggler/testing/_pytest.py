"""A pytest fixture factory: a running simulator per test (or per module/session)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from juggler.testing._scenario import Scenario
from juggler.testing._simulator import ProviderSimulator

__all__ = ["simulator_fixture"]


def simulator_fixture(
    scenarios: Mapping[str, Scenario | Mapping[str, Any]] | None = None,
    *,
    name: str = "simulator",
    scope: str = "function",
    any_model: bool = False,
) -> Callable[..., Any]:
    """Make a pytest fixture called ``name`` that yields a started ``ProviderSimulator``
    (``any_model=True``: every provider serves every model name).

    In a test module or conftest::

        simulator = simulator_fixture({"groq": Scenario(), "nvidia": Scenario(hang=True)})

        def test_fallback(simulator):
            j = Juggler(chat=[...], providers=simulator.providers_config(), env={})
    """
    import pytest

    @pytest.fixture(name=name, scope=scope)  # type: ignore[call-overload]
    def _simulator() -> Iterator[ProviderSimulator]:
        with ProviderSimulator(scenarios, any_model=any_model) as sim:
            yield sim

    return _simulator  # type: ignore[no-any-return]
