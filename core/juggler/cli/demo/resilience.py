"""Steps 4 and 5 of ``juggler demo``: an outage that opens a circuit and the recovery that
closes it, then a hedged request beating a slow provider.

Both need the resilience engine (circuit breakers, ``hedge_after_ms``); on a build without
it each step prints that it needs it and is skipped. On the simulated fleet the outage hits
nvidia and the slow provider is together; with ``--live`` a simulated provider is put in
front of the real chain, because an outage cannot be ordered from a real vendor.

Neither step may depend on how fast the machine is (the demo runs in CI on loaded machines):
the outage step's Juggler runs on a :class:`DemoClock`, so its circuit stays open however long
a call takes and the cool-down is skipped by moving that clock forward, never by sleeping; the
hedge step reports who actually won the race rather than assuming the hedge did.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from juggler._config import Settings
from juggler._juggler import Juggler
from juggler.cli.demo.fleet import SLOW_MS, chain_for

if TYPE_CHECKING:
    from juggler.cli.demo.narration import Story

__all__ = ["ResilienceStory", "hedging_available", "resilience_available"]

COOLDOWN_S = 30.0  # the default cool-down: the story fast-forwards its clock past it
HEDGE_MS = 200.0
MAX_OUTAGE_CALLS = 12
_LIVE_MODEL = "demo-model"


class DemoClock:
    """The outage step's engine clock: monotonic time plus the jumps the story makes."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (skip a cool-down without waiting for it)."""
        self.offset += seconds


def resilience_available() -> bool:
    """True when this build's Juggler has circuit breakers (and reports their state)."""
    return "circuit_cooldown" in Settings.model_fields and hasattr(Juggler, "get_health_status")


def hedging_available() -> bool:
    """True when this build's Juggler can hedge (``hedge_after_ms``)."""
    return "hedge_after_ms" in Settings.model_fields and hasattr(Juggler, "get_health_status")


class ResilienceStory:
    """Runs the outage and the hedge on ``sim`` (or on a simulator of its own when live)."""

    def __init__(
        self,
        story: Story,
        *,
        sim: Any | None,
        config: Mapping[str, Any],
        live_chain: Sequence[str] = (),
    ) -> None:
        self.story = story
        self.sim = sim
        self.config = dict(config)
        self.live_chain = list(live_chain)
        self.live = sim is None

    # ----- fleet for the two steps -----

    def _fleet(self, kind: str) -> tuple[Any, str, list[str], dict[str, Any], Any]:
        """(sim, failing-or-slow provider, chain, providers config, env) for one step."""
        if not self.live:
            chain = chain_for(kind)[0]
            return self.sim, chain[0].split("/", 1)[0] if chain else "", chain, self.config, {}
        import os

        from juggler.testing import ProviderSimulator, Scenario

        name = "sim-outage" if kind == "outage" else "sim-slow"
        scenario = Scenario(wire="openai", latency_ms=SLOW_MS if kind == "hedge" else 0.0)
        sim = ProviderSimulator({name: scenario})
        sim.start()
        chain = [f"{name}/{_LIVE_MODEL}", *self.live_chain[:2]]
        return sim, name, chain, sim.providers_config(), os.environ

    def _juggler(self, chain: list[str], config: Mapping[str, Any], env: Any, **kw: Any) -> Juggler:
        from juggler.cli.demo.fleet import health_source

        juggler = Juggler(chat=chain, providers=config, env=env, retry_base_wait=0.05, **kw)
        self.story.health = health_source(juggler)
        return juggler

    # ----- step 4 -----

    def outage(self) -> None:
        """Script a 100 % 503 outage, show the circuit opening, then the recovery."""
        why = (
            "A provider that keeps failing gets its circuit opened: later calls skip it without "
            "sending a request, until a half-open probe finds it healthy again."
        )
        self.story.heading("An outage opens a circuit; the recovery closes it", why)
        if not resilience_available():
            self.story.skip("this step needs the resilience engine (circuit breakers)")
            return
        if self.live and not self.live_chain:
            self.story.skip("no configured provider offers chat")
            return
        sim, down, chain, config, env = self._fleet("outage")
        if len(chain) < 2:
            self.story.skip("needs two chat providers")
            return
        from juggler.testing import Scenario

        clock = DemoClock()
        try:
            with self._juggler(
                chain, config, env, circuit_cooldown=COOLDOWN_S, clock=clock
            ) as juggler:
                self._outage(juggler, sim, down, chain, clock)
        finally:
            sim.set_scenario(down, Scenario(wire=_wire(down)))
            if self.live:
                sim.stop()

    def _outage(
        self, juggler: Juggler, sim: Any, down: str, chain: list[str], clock: DemoClock
    ) -> None:
        from juggler.cli.demo.fleet import PROMPT
        from juggler.testing import Scenario

        out = self.story.out
        sim.set_scenario(down, Scenario(wire=_wire(down), error_rates={503: 1.0}))
        first = None
        opened_at = None
        for call in range(1, MAX_OUTAGE_CALLS + 1):
            answer = juggler.chat(PROMPT, targets=chain)
            first = first or answer
            if any(a.provider == down and a.outcome == "skipped" for a in answer.models_used):
                opened_at = (call, answer)
                break
        assert first is not None
        out.print(f"[bold]{escape(down)} now answers 503 to everything.[/] The first call:")
        self.story.result(str(first), first.models_used)
        if opened_at is None:
            self.story.skip(f"the circuit did not open within {MAX_OUTAGE_CALLS} calls")
            return
        call, answer = opened_at
        before = sim.total(down)
        out.print(
            f"After {call - 1} failed calls the circuit of {escape(down)} is open. "
            f"Call {call} skips it without a request:"
        )
        self.story.result(str(answer), answer.models_used)
        sim.set_scenario(down, Scenario(wire=_wire(down)))
        out.print(
            f"[bold]{escape(down)} recovers.[/] After the {COOLDOWN_S:g} s cool-down (the demo "
            "fast-forwards its clock rather than wait) the circuit is half-open; the next call "
            "is the probe, and its success closes the circuit:"
        )
        clock.advance(COOLDOWN_S)
        probe = juggler.chat(PROMPT, targets=chain)
        sent = sim.total(down) - before
        self.story.result(str(probe), probe.models_used)
        out.print(f"[dim]{escape(down)} received {sent} request(s) since its circuit opened[/]")

    # ----- step 5 -----

    def hedge(self) -> None:
        """A slow first target: after ``HEDGE_MS`` the next one is started; first answer wins."""
        why = (
            f"The first target takes {SLOW_MS / 1000:g} s. After {HEDGE_MS:.0f} ms without an "
            "answer the next target is started too; the first answer wins, the other is "
            "cancelled (The Tail at Scale)."
        )
        self.story.heading("A hedged request beats a slow provider", why)
        if not hedging_available():
            self.story.skip("this step needs the resilience engine (hedge_after_ms)")
            return
        if self.live and not self.live_chain:
            self.story.skip("no configured provider offers chat")
            return
        sim, _slow, chain, config, env = self._fleet("hedge")
        try:
            if len(chain) < 2:
                self.story.skip("needs two chat providers")
                return
            from juggler.cli.demo.fleet import PROMPT

            config = _with_demo_prices(config, chain)
            with self._juggler(chain, config, env, hedge_after_ms=HEDGE_MS) as juggler:
                started = time.perf_counter()
                answer = juggler.chat(PROMPT)
                took = (time.perf_counter() - started) * 1000.0
            if any(a.hedged and a.success for a in answer.models_used):
                line = f"the hedge answered in {took:.0f} ms instead of about {SLOW_MS:.0f} ms"
            else:  # a machine too loaded for the hedge to win: say so, do not pretend
                line = f"the slow target answered first this time ({took:.0f} ms)"
            self.story.out.print(line)
            self.story.out.print(_hedge_cost(answer.models_used))
            self.story.result(str(answer), answer.models_used)
        finally:
            if self.live:
                sim.stop()


def _wire(name: str) -> str | None:
    """Names outside the catalogue (the live mode's stand-ins) speak the OpenAI wire."""
    from juggler.providers.catalog import CATALOG

    return None if name in CATALOG else "openai"


# Illustrative prices (US dollars per million tokens) so the demo can show money; a real
# deployment uses genai-prices' bundled table or its own providers={...: {"prices": ...}}.
_DEMO_PRICE = {"input_per_mtok": 0.20, "output_per_mtok": 0.60}


def _with_demo_prices(config: Mapping[str, Any], chain: Sequence[str]) -> dict[str, Any]:
    out = {name: dict(entry) for name, entry in config.items()}
    for target in chain:
        provider, model = target.split("/", 1)
        if provider in out and "prices" not in out[provider]:
            out[provider]["prices"] = {model: _DEMO_PRICE}
    return out


def _hedge_cost(attempts: Sequence[Any]) -> str:
    """What the hedge cost: the answer's price, and the cancelled attempt's said to be
    unknown (the vendor may still bill its prompt) rather than counted as free."""
    known = [a.cost_usd for a in attempts if a.cost_usd is not None]
    unknown = [f"{a.provider} ({a.outcome})" for a in attempts
               if a.cost_usd is None and a.outcome != "skipped"]  # fmt: skip
    total = f"${sum(known):.6f} at demo prices" if known else "unknown (no price)"
    tail = f"; price unknown for {', '.join(unknown)}" if unknown else ""
    return f"what the hedged call cost: {total}{tail}"
