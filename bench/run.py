"""Run every benchmark, print a summary table and write ``bench/results.md``.

``make bench`` runs this. Each benchmark takes its own baseline in the same run and reports
ratios against it (the machine is shared and noisy; ratios travel, absolute figures do not).
All traffic goes to a simulator on 127.0.0.1 in its own process; every loop is bounded in
count and time. The default run is ``peers`` (Juggler against raw httpx, raw aiohttp, the
openai SDK, LangChain and LiteLLM; about seven minutes) and writes ``bench/results.md`` and
``bench/results.png``; ``--all`` adds the older Juggler-only benchmarks.

    .venv/bin/python bench/run.py                    # peers
    .venv/bin/python bench/run.py --all              # peers and every other benchmark
    .venv/bin/python bench/run.py --quick            # a smoke run (a few seconds each)
    .venv/bin/python bench/run.py --only hedge_tail  # one benchmark (results.md untouched)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import accounting
import hedge_tail
import overhead
import peers
import pool_isolation
import ratelimit_429
from _common import Row, figure, fmt_ratio, summary

HERE = Path(__file__).resolve().parent
BENCHES: dict[str, Callable[[bool], list[Row]]] = {
    "peers": peers.run,
    "overhead": overhead.run,
    "hedge_tail": hedge_tail.run,
    "pool_isolation": pool_isolation.run,
    "accounting": accounting.run,
    "ratelimit_429": ratelimit_429.run,
}


def simulator_rps(quick: bool) -> str:
    """The simulator helper's own benchmark (``bench/simulator_rps.py``), as one line."""
    script = HERE / "simulator_rps.py"
    if not script.exists():
        return "simulator_rps.py is not there"
    n = "2000" if quick else "8000"
    try:
        done = subprocess.run(
            [sys.executable, str(script), "--requests", n, "--concurrency", "32", "--raw"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "simulator_rps.py did not finish within 60 s"
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
        return f"simulator_rps.py failed: {' '.join(tail)}"
    return done.stdout.strip().splitlines()[-1]


def markdown(title: str, rows: list[Row]) -> str:
    """One benchmark's rows as a Markdown table (figures, then ratios)."""
    fig_keys = list(dict.fromkeys(k for r in rows for k in r.figures))
    ratio_keys = list(dict.fromkeys(k for r in rows for k in r.ratios))
    head = ["case", *fig_keys, *(f"{k} ratio" for k in ratio_keys), "note"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r.case]
        cells += [figure(k, r.figures[k]) if k in r.figures else "" for k in fig_keys]
        cells += [fmt_ratio(r.ratios[k]) if k in r.ratios else "" for k in ratio_keys]
        cells.append(r.note)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment() -> str:
    """The facts that make figures comparable: date, CPU count, versions."""
    return (
        f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}; {os.cpu_count()} CPUs "
        f"({platform.machine()}, load average {os.getloadavg()[0]:.1f} at the end); "
        f"{_cpu_model()}; Python {platform.python_version()}; "
        + ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    )


PACKAGES = (
    "httpx",
    "httpcore",
    "aiohttp",
    "httpx-aiohttp",
    "openai",
    "langchain-openai",
    "litellm",
)


def _version(package: str) -> str:
    try:
        return version(package)
    except Exception:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


NOTES = {
    "accounting": (
        "Per-call cost of pricing, budgets and tracing, in process, against one raw "
        "`httpx.Client` request through an in-process `MockTransport` (no network: a real "
        "provider call is hundreds of times longer). A genai-prices lookup is memoised per "
        "identical usage, model and day; a new usage pays the full `calc_price`."
    ),
    "peers": (
        "Every figure is the median over rounds; every ratio is the median over rounds of the "
        "figure divided by raw `httpx.AsyncClient` (default settings) measured in the same "
        "round (import: by `import httpx`; sync: by raw `httpx.Client` from 32 threads). "
        "CPU is this client process's CPU time per call; the server is the project's "
        "simulator in its own process, pinned to the last CPU. Every system runs with its "
        "defaults as its docs show them; Juggler, LangChain and LiteLLM have a two-target "
        "chain (A then B). Juggler rows use the default transport (httpx API on aiohttp's pool, "
        "the `fast` extra); `httpx pool` is the fallback without it. Failover: 24 calls, 8 in "
        "flight; A requests/call is counted at the server. Tail: hedging fires after 75 ms."
    ),
    "ratelimit_429": (
        f"Chain [Q, F]: Q (groq) allows {ratelimit_429.QUOTA} requests per "
        f"{ratelimit_429.WINDOW:g} s and announces what is left in Groq's headers, then "
        "answers 429 with Retry-After; F has no quota. 429s are counted at the simulator. "
        "`Q answered` is how much of Q's quota the calls used (the breaker alone avoids 429s "
        "by leaving Q idle long after its window reopens). Latency differs with the share "
        "each provider serves, not with the policy's own cost."
    ),
    "overhead": (
        "Ratios are against raw `httpx.AsyncClient.post()` + `.json()` at the same concurrency "
        "(streams: raw `client.stream()` + SSE parsing). The simulator answers at once, so "
        "these are pure client-side costs."
    ),
    "hedge_tail": (
        "Chain [S, H]: S log-normal (median 20 ms, sigma 1), H 20 +- 3 ms; 8 calls in flight. "
        "Ratios are against sequential. requests/call counts what the simulator received."
    ),
    "pool_isolation": (
        "B's latency (16 in flight) while A answers 429 under a light load, before and after "
        f"a burst of {pool_isolation.BURST} concurrent requests to A left that many idle "
        "keep-alive connections. `after/clean` is each setup's own slowdown; `vs (a)` "
        "compares with the one shared raw httpx client."
    ),
}


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--only", choices=sorted(BENCHES), help="run one benchmark")
    parser.add_argument("--all", action="store_true", help="every benchmark, not only peers")
    args = parser.parse_args()
    chosen = {args.only: BENCHES[args.only]} if args.only else BENCHES
    if not args.only and not args.all:
        chosen = {"peers": peers.run}
    sections = []
    started = time.perf_counter()
    for name, bench in chosen.items():
        t0 = time.perf_counter()
        print(f"== {name} ...", flush=True)
        rows = bench(args.quick)
        print(summary(rows))
        print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
        groups = list(dict.fromkeys(r.bench for r in rows))
        tables = [markdown(g, [r for r in rows if r.bench == g]) for g in groups]
        sections.append("\n\n".join(tables) + f"\n\n{NOTES[name]}")
    rps = ""
    if args.all:
        print("== simulator_rps ...", flush=True)
        rps = simulator_rps(args.quick)
        print(f"  {rps}")
    elapsed = time.perf_counter() - started
    print(f"== done in {elapsed:.0f} s")
    if args.only:
        return
    text = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`bench/run.py{' --quick' if args.quick else ''}`), "
        f"{environment()}; {elapsed:.0f} s.",
        "Each benchmark's baseline was measured in the same run; the ratios are what to "
        "compare across machines. p50/p99 are per-call latencies in milliseconds.",
        "",
        "![Juggler and the alternatives: ratios to raw httpx](results.png)",
        "",
        *(f"{s}\n" for s in sections),
        *(["### simulator_rps", "", rps, ""] if rps else []),
    ]
    (HERE / "results.md").write_text("\n".join(text))
    print(f"wrote {HERE / 'results.md'}")


if __name__ == "__main__":
    main()
