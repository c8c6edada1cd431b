"""Rich tables shared by the ``juggler`` command, the demo and the framework docs.

``models_used_table(response.models_used)`` turns any call's attempts into a table;
``health_table(juggler.get_health_status())`` does the same for health figures. Both accept
plain mappings too (``[dict(a) for a in models_used]``), so JSON read back from a log works.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from juggler._types import Capability
from juggler.providers.catalog import CATALOG

__all__ = [
    "HEALTH_FIELDS",
    "PROBE_STATES",
    "ProbeResult",
    "health_rows",
    "health_table",
    "models_used_table",
    "probe_table",
    "providers_table",
]

HEALTH_FIELDS = (
    "circuit_state",
    "success_rate",
    "p50_ms",
    "p95_ms",
    "requests",
    "failures",
    "last_error",
    "last_success_at",
)
"""The per-(provider, model) figures ``Juggler.get_health_status()`` reports."""

_OUTCOME_STYLE = {
    "success": "bold green",
    "cache_hit": "cyan",
    "error": "red",
    "skipped": "yellow",
    "cancelled": "magenta",
}
_CIRCUIT_STYLE = {"closed": "green", "open": "bold red", "half_open": "yellow"}
_PROBE_STYLE = {"ok": "bold green", "rate limited": "bold yellow", "down": "bold red"}
_ERROR_WIDTH = 48


PROBE_STATES = ("ok", "rate limited", "down")
"""What a probe can find: an answer; a 429 (the provider is up and the key works, it is only
throttling this key for now); anything else."""


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one active health probe of one provider.

    ``state`` is one of :data:`PROBE_STATES`; ``ok`` is True only for ``"ok"``.
    """

    provider: str
    model: str
    capability: str
    ok: bool
    elapsed_ms: float | None = None
    error: str | None = None
    state: str = ""

    def __post_init__(self) -> None:
        if not self.state:
            object.__setattr__(self, "state", "ok" if self.ok else "down")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``juggler health --json``)."""
        return dataclasses.asdict(self)


def _field(item: Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _short(text: Any, width: int = _ERROR_WIDTH) -> str:
    if text is None or text == "":
        return ""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


def _ms(value: Any) -> str:
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if math.isnan(number) else f"{number:,.0f}"


def models_used_table(attempts: Iterable[Any], *, title: str | None = "models_used") -> Table:
    """A table of a call's attempts, one row each, in call order.

    Columns: #, provider, model, outcome, status, error_type, error, ms, cost (US dollars;
    blank when the price is unknown), flags (``retry``, ``hedged``). ``attempts`` holds
    ``ModelAttempt`` objects or mappings with the same keys.
    """
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("provider", style="bold", no_wrap=True)
    table.add_column("model", no_wrap=True, overflow="ellipsis", max_width=32)
    table.add_column("outcome", no_wrap=True)
    table.add_column("status", justify="right", no_wrap=True)
    table.add_column("error_type", no_wrap=True)
    table.add_column("error", overflow="fold")
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    table.add_column("flags", no_wrap=True)
    for index, attempt in enumerate(attempts, start=1):
        outcome = str(_field(attempt, "outcome", ""))
        status = _field(attempt, "status_code")
        flags = [f for f in ("retry", "hedged") if _field(attempt, f, False)]
        table.add_row(
            str(_field(attempt, "attempt", index)),
            str(_field(attempt, "provider", "")),
            str(_field(attempt, "model", "")),
            Text(outcome, style=_OUTCOME_STYLE.get(outcome, "")),
            "" if status is None else str(status),
            str(_field(attempt, "error_type") or ""),
            _short(_field(attempt, "error")),
            _ms(_field(attempt, "elapsed_ms")),
            _usd(_field(attempt, "cost_usd")),
            " ".join(flags),
        )
    return table


def _usd(value: Any) -> str:
    """A cost in US dollars, to the micro-dollar; blank when unknown."""
    return "" if value is None else f"${float(value):.6f}"


def _as_dict(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, Mapping):
        return {str(k): v for k, v in obj.items()}
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        data = dump()
        return dict(data) if isinstance(data, Mapping) else None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return None


def _is_row(data: Mapping[str, Any]) -> bool:
    return any(name in data for name in HEALTH_FIELDS)


def health_rows(status: Any) -> list[dict[str, Any]]:
    """Flatten a health report into rows with ``provider``, ``model`` and the health fields.

    Accepts ``{provider: {..., "models": {model: figures}}}`` (``get_health_status()``),
    ``{"provider/model": figures}``, ``{provider: {model: figures}}``, a list of
    figures that name their provider and model, and figures as mappings, pydantic models or
    dataclasses.
    """
    rows: list[dict[str, Any]] = []

    def visit(item: Any, path: Sequence[str]) -> None:
        data = _as_dict(item)
        if data is None:
            return
        models = data.get("models")
        if isinstance(models, Mapping):  # {provider: {figures..., "models": {model: figures}}}
            for key, value in models.items():
                visit(value, [*path, str(key)])
            return
        if _is_row(data):
            row = dict(data)
            names = [p for p in path if p]
            if len(names) == 1 and "/" in names[0] and "model" not in row:
                names = names[0].split("/", 1)
            row.setdefault("provider", names[0] if names else "")
            row.setdefault("model", names[1] if len(names) > 1 else "")
            rows.append(row)
            return
        for key, value in data.items():
            visit(value, [*path, str(key)])

    if isinstance(status, Iterable) and not isinstance(status, Mapping | str | bytes):
        for item in status:
            visit(item, [])
    else:
        visit(status, [])
    rows.sort(key=lambda r: (str(r.get("provider")), str(r.get("model"))))
    return rows


def _rate(value: Any) -> str:
    if value is None:
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "" if math.isnan(number) else f"{number:.0%}"


def _when(value: Any) -> str:
    if value is None:
        return ""
    iso = getattr(value, "strftime", None)
    if callable(iso):
        return str(value.strftime("%H:%M:%S"))
    return str(value)


def _state(row: Mapping[str, Any]) -> str:
    state = row.get("circuit_state")
    return str(getattr(state, "value", state) or "")


def health_table(status: Any, *, title: str | None = "health", active_only: bool = False) -> Table:
    """A table of health figures per provider and model (see :func:`health_rows`).

    ``active_only`` leaves out targets that have seen no request and whose circuit is closed.
    """
    table = Table(title=title, title_justify="left")
    table.add_column("provider", style="bold", no_wrap=True)
    table.add_column("model", no_wrap=True, overflow="ellipsis", max_width=32)
    table.add_column("circuit", no_wrap=True)
    table.add_column("success", justify="right", no_wrap=True)
    table.add_column("p50 ms", justify="right", no_wrap=True)
    table.add_column("p95 ms", justify="right", no_wrap=True)
    table.add_column("requests", justify="right", no_wrap=True)
    table.add_column("failures", justify="right", no_wrap=True)
    table.add_column("last error", overflow="fold")
    for row in health_rows(status):
        if active_only and not row.get("requests") and _state(row) in ("", "closed"):
            continue
        state = _state(row)
        table.add_row(
            str(row.get("provider", "")),
            str(row.get("model", "")),
            Text(state, style=_CIRCUIT_STYLE.get(state, "")),
            _rate(row.get("success_rate")),
            _ms(row.get("p50_ms")),
            _ms(row.get("p95_ms")),
            "" if row.get("requests") is None else str(row.get("requests")),
            "" if row.get("failures") is None else str(row.get("failures")),
            _short(row.get("last_error")),
        )
    return table


def probe_table(results: Iterable[ProbeResult], *, title: str | None = "health probe") -> Table:
    """A table of active probe results: provider, model, capability, state, ms, error."""
    table = Table(title=title, title_justify="left")
    table.add_column("provider", style="bold", no_wrap=True)
    table.add_column("model", no_wrap=True, overflow="ellipsis", max_width=32)
    table.add_column("probe", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("error", overflow="fold")
    for r in results:
        table.add_row(
            r.provider,
            r.model,
            r.capability,
            Text(r.state, style=_PROBE_STYLE.get(r.state, "")),
            _ms(r.elapsed_ms),
            _short(r.error),
        )
    return table


def providers_table(env: Mapping[str, str], *, available_wires: Iterable[str] = ()) -> Table:
    """The built-in catalogue: key set or not (never its value), capabilities, default models,
    tier and base URL (the ``<NAME>_BASE_URL`` override when set)."""
    wires = set(available_wires)
    table = Table(title="providers", title_justify="left", show_lines=True)
    table.add_column("provider", style="bold", no_wrap=True)
    table.add_column("key", no_wrap=True)
    table.add_column("tier", justify="right", no_wrap=True)
    table.add_column("wire", no_wrap=True)
    table.add_column("default models")
    table.add_column("base URL", overflow="fold")
    for name, spec in CATALOG.items():
        has_key = bool(env.get(spec.api_key_env))
        key = (
            Text(f"set ({spec.api_key_env})", style="green")
            if has_key
            else Text(f"- ({spec.api_key_env})", style="dim")
        )
        models = "\n".join(
            f"{cap.value}: {spec.models[cap]}" for cap in Capability if cap in spec.models
        )
        override = env.get(spec.base_url_env)
        base = f"{override} ({spec.base_url_env})" if override else spec.base_url
        wire = spec.wire if not wires or spec.wire in wires else f"{spec.wire} (not built)"
        table.add_row(name, key, str(spec.tier), wire, models, base)
    return table
