"""Rows and chart of the peer benchmark: medians over rounds, ratios to raw httpx."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

from _common import Row
from _systems import BASE

__all__ = ["Figures", "chart", "rows", "store"]

# (section, case) -> metric -> one value per round
Figures = dict[tuple[str, str], dict[str, list[float]]]


def store(into: Figures, section: str, case: str, values: dict[str, float]) -> None:
    """Add one round's figures of one case."""
    for k, v in values.items():
        into.setdefault((section, case), defaultdict(list))[k].append(v)


def _ratios(figs: Figures) -> dict[tuple[str, str], dict[str, list[float]]]:
    """Per round: each metric over the same metric of the section's baseline row."""
    out: dict[tuple[str, str], dict[str, list[float]]] = {}
    for (section, case), metrics in figs.items():
        base_case = "httpx (baseline)" if section == "import" else BASE
        if section.startswith("sync"):
            base_case = f"{BASE}, 32 threads"
        base = figs.get((section, base_case))
        if base is None:
            continue
        for k, values in metrics.items():
            if k in ("errors", "success %", "extra requests/call", "A requests/call"):
                continue
            pairs = zip(values, base.get(k, []), strict=False)
            rs = [v / b for v, b in pairs if b and b == b]
            if rs:
                out.setdefault((section, case), {})[k] = rs
    return out


def rows(figs: Figures) -> list[Row]:
    """Median figures and median ratios (to the same round's raw httpx) as table rows."""
    ratios = _ratios(figs)
    result = []
    for (section, case), metrics in figs.items():
        fig = {k: statistics.median(v) for k, v in metrics.items() if k != "errors"}
        errors = sum(metrics.get("errors", []))
        rat = {k: statistics.median(v) for k, v in ratios.get((section, case), {}).items()}
        rounds = len(next(iter(metrics.values())))
        note = f"{rounds} rounds" + (f", {errors:.0f} errors" if errors else "")
        result.append(Row(section, case, fig, rat, note))
    return result


def chart(result: list[Row], path: Path) -> None:
    """Bars: throughput and CPU per call as ratios to raw httpx, at 1 and 64 in flight."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = ["overhead, 1 in flight", "overhead, 64 in flight"]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), sharey=True)
    for ax, section in zip(axes, sections, strict=True):
        picked = [r for r in result if r.bench == section and "calls/s" in r.ratios]
        names = [r.case for r in picked]
        ys = range(len(names))
        ax.barh(
            [y + 0.2 for y in ys],
            [r.ratios["calls/s"] for r in picked],
            0.4,
            label="calls/s (higher is better)",
            color="#2b8cbe",
        )
        ax.barh(
            [y - 0.2 for y in ys],
            [r.ratios["cpu ms/call"] for r in picked],
            0.4,
            label="CPU per call (lower is better)",
            color="#f03b20",
        )
        ax.axvline(1.0, color="black", lw=0.8)
        ax.set_yticks(list(ys), names)
        ax.set_xscale("log")
        ax.set_title(f"{section}: ratio to raw httpx")
        ax.invert_yaxis()
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
