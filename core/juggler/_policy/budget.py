"""Spending budgets per provider or per provider/model, in fixed windows. Pure, clock injected.

Shape (``Juggler(budgets=...)``)::

    {"openai": {"usd": 5, "per": "day"},
     "anthropic/claude-sonnet-4-5": {"usd": 1, "per": "hour"}}

A key is a provider (every model of it) or ``provider/model`` (the model as named in the
chain). ``per`` is ``minute``, ``hour``, ``day``, ``week`` or ``month``. Windows are fixed and
aligned to the period in UTC: a day runs from 00:00:00 UTC, a week from Monday 00:00 UTC, a
month from the 1st. When a window rolls over its spend starts again from zero.

A target whose budget is spent is skipped before any request, like an open circuit, with the
reason from :meth:`Budgets.allows`. The cap is soft: attempts already in flight when it runs
out still finish and are counted, so it can be overshot by what those attempts cost. Spend
whose price is unknown (``cost_usd is None``) is not counted: price the model in
``providers=`` if a budget must cover it.

State lives behind :class:`BudgetStore` (in process by default);
:class:`juggler.state.budget.RedisBudgetStore` shares it between replicas (``INCRBYFLOAT`` on
``key:window_start``, expiring with the window) without touching this logic.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from juggler._exceptions import InvalidRequestError

__all__ = ["Budget", "BudgetStore", "Budgets", "MemoryBudgetStore", "Period", "window_of"]

Period = Literal["minute", "hour", "day", "week", "month"]
_PERIODS: tuple[str, ...] = get_args(Period)
_FIXED = {"minute": 60, "hour": 3600, "day": 86400}


class Budget(BaseModel):
    """One budget: at most ``usd`` dollars per ``per``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usd: float = Field(gt=0)
    per: Period = "day"


def window_of(period: str, now: float) -> tuple[float, float]:
    """The fixed window (start, end) in epoch seconds, UTC-aligned, that contains ``now``."""
    if period in _FIXED:
        size = _FIXED[period]
        start = now - now % size
        return start, start + size
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        first = day - timedelta(days=day.weekday())
        return first.timestamp(), (first + timedelta(days=7)).timestamp()
    first = day.replace(day=1)
    nxt = (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )
    return first.timestamp(), nxt.timestamp()


class BudgetStore(Protocol):
    """Where spend lives. One counter per (budget key, window start)."""

    def spent(self, key: str, window_start: float) -> float:
        """Dollars spent under ``key`` in the window starting at ``window_start``."""
        ...

    def add(
        self, key: str, window_start: float, usd: float, window_end: float | None = None
    ) -> float:
        """Add ``usd`` to that window's counter; return the new total. ``window_end`` lets a
        shared store expire the counter with its window."""
        ...


class MemoryBudgetStore:
    """In-process :class:`BudgetStore`: keeps only the current window of each key."""

    def __init__(self) -> None:
        self._spend: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()  # the sync API runs calls on a loop thread; be safe

    def spent(self, key: str, window_start: float) -> float:
        """Spend in that window (0 once the window has rolled over)."""
        start, total = self._spend.get(key, (window_start, 0.0))
        return total if start == window_start else 0.0

    def add(
        self, key: str, window_start: float, usd: float, window_end: float | None = None
    ) -> float:
        """Add spend; a newer window replaces the old counter."""
        with self._lock:
            start, total = self._spend.get(key, (window_start, 0.0))
            total = (total if start == window_start else 0.0) + usd
            self._spend[key] = (window_start, total)
            return total


class Budgets:
    """The budgets of one Juggler, checked before each attempt and charged after it."""

    def __init__(self, budgets: Mapping[str, Budget], store: BudgetStore | None = None) -> None:
        self._budgets = dict(budgets)
        self._store: BudgetStore = store or MemoryBudgetStore()

    @classmethod
    def parse(
        cls,
        raw: Mapping[str, Any] | None,
        *,
        providers: Mapping[str, Any] | None = None,
        store: BudgetStore | None = None,
    ) -> Budgets:
        """Validate ``budgets=``; any mistake is an ``InvalidRequestError`` with a suggestion.

        ``providers`` (names the Juggler knows) lets an unknown provider name be caught too.
        """
        if raw is None:
            return cls({}, store)
        if not isinstance(raw, Mapping):
            raise InvalidRequestError(
                'budgets must be a dict like {"openai": {"usd": 5, "per": "day"}}'
            )
        parsed: dict[str, Budget] = {}
        for key, value in raw.items():
            _check_key(key, providers)
            parsed[key] = _parse_one(key, value)
        return cls(parsed, store)

    def __bool__(self) -> bool:
        return bool(self._budgets)

    def _keys(self, provider: str, model: str) -> list[str]:
        return [k for k in (provider, f"{provider}/{model}") if k in self._budgets]

    def allows(self, provider: str, model: str, now: float) -> str | None:
        """None when the target may be tried; else why not (the ``skipped`` reason)."""
        for key in self._keys(provider, model):
            budget = self._budgets[key]
            start, end = window_of(budget.per, now)
            if self._store.spent(key, start) >= budget.usd:
                return (
                    f"budget: ${budget.usd:.2f} per {budget.per} for {key} spent,"
                    f" resets at {_when(end, now)}"
                )
        return None

    def spend(self, provider: str, model: str, usd: float | None, now: float) -> None:
        """Charge one attempt's cost to every budget covering the target (None: not counted)."""
        if not usd:
            return
        for key in self._keys(provider, model):
            start, end = window_of(self._budgets[key].per, now)
            self._store.add(key, start, usd, end)

    def snapshot(self, now: float) -> dict[str, dict[str, Any]]:
        """Each budget's window for ``get_health_status()`` and ``juggler health``."""
        out: dict[str, dict[str, Any]] = {}
        for key, budget in sorted(self._budgets.items()):
            start, end = window_of(budget.per, now)
            spent = self._store.spent(key, start)
            out[key] = {
                "usd": budget.usd,
                "per": budget.per,
                "spent_usd": round(spent, 6),
                "remaining_usd": round(max(budget.usd - spent, 0.0), 6),
                "exhausted": spent >= budget.usd,
                "resets_at": datetime.fromtimestamp(end, UTC).isoformat(),
            }
        return out


def _when(end: float, now: float) -> str:
    moment = datetime.fromtimestamp(end, UTC)
    fmt = "%H:%M:%S UTC" if end - now <= 86400 else "%Y-%m-%d %H:%M:%S UTC"
    return moment.strftime(fmt)


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_key(key: Any, providers: Mapping[str, Any] | None) -> None:
    if not isinstance(key, str) or not key.strip() or key.startswith("/") or key.endswith("/"):
        raise InvalidRequestError(
            f"budget key {key!r} must be a provider ('openai') or provider/model"
            " ('anthropic/claude-sonnet-4-5')"
        )
    provider = key.split("/", 1)[0]
    if providers is not None and provider not in providers:
        raise InvalidRequestError(
            f"budget for unknown provider {provider!r}{_suggest(provider, providers)}"
        )


def _parse_one(key: str, value: Any) -> Budget:
    example = '{"usd": 5, "per": "day"}'
    if not isinstance(value, Mapping):
        raise InvalidRequestError(f"budget {key!r} must be a dict like {example}, not {value!r}")
    for field in value:
        if field not in Budget.model_fields:
            raise InvalidRequestError(
                f"budget {key!r}: unknown field {field!r}{_suggest(field, Budget.model_fields)};"
                f" expected {example}"
            )
    per = value.get("per", "day")
    if per not in _PERIODS:
        raise InvalidRequestError(
            f"budget {key!r}: per={per!r} is not one of {', '.join(_PERIODS)}"
            f"{_suggest(per, _PERIODS)}"
        )
    if "usd" not in value:
        raise InvalidRequestError(f"budget {key!r} needs usd, e.g. {example}")
    try:
        return Budget.model_validate(dict(value))
    except ValidationError as exc:
        raise InvalidRequestError(
            f"budget {key!r}: usd must be a positive number, got {value.get('usd')!r}"
        ) from exc
