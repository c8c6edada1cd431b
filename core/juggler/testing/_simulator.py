"""``ProviderSimulator``: a fleet of simulated LLM providers behind one loopback HTTP server.

Requests go to ``/{provider}/{the vendor's own path}``; the provider's scenario decides
whether to answer, fail or misbehave, and its wire format renders the answer. The server runs
on its own event loop: in a background thread (``start()``, ``with``, ``async with``), in
the foreground (``run()``, for the CLI), or in its own process (``spawn()``, for benchmarks).
Scenarios can be swapped while it runs; requests are counted per provider and status.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from juggler.testing._addresses import SIM_KEY, WIRES, base_path, provider_config, wire_of
from juggler.testing._models import served_models
from juggler.testing._quota import QuotaWindow, rate_headers
from juggler.testing._scenario import Decision, Scenario
from juggler.testing._server import Answer, HttpServer, NoAnswer, Request, Response, StreamResponse
from juggler.testing.wires.base import Call, WireFormat, json_answer, malformed

if TYPE_CHECKING:
    from juggler.testing._spawn import SimulatorProcess

__all__ = ["WIRES", "ProviderSimulator", "base_path", "provider_config"]

_MESSAGES = {
    401: "Invalid API key (simulated).",
    403: "This key may not use this model (simulated).",
    404: "The model does not exist (simulated).",
    429: "Rate limit reached (simulated). Please try again later.",
    500: "The server had an error while processing your request (simulated).",
    502: "Bad gateway (simulated).",
    503: "Service unavailable (simulated).",
    504: "Gateway timeout (simulated).",
    529: "Overloaded (simulated).",
}


@dataclass(frozen=True, slots=True)
class _Provider:
    """A provider's scenario, wire, random source and the models it serves (None: every
    name); swapped whole, never mutated."""

    scenario: Scenario
    wire: WireFormat
    rng: random.Random
    served: frozenset[str] | None


def _as_scenario(value: Scenario | Mapping[str, Any] | None) -> Scenario:
    if value is None:
        return Scenario()
    if isinstance(value, Scenario):
        return value
    return Scenario.from_json(value)


class ProviderSimulator:
    """Simulated providers on ``127.0.0.1``; see the module docstring and the README.

    Args:
        scenarios: ``{provider name: Scenario}`` (a dict of Scenario fields works too).
        host: interface to bind (default loopback only).
        port: 0 takes a free port.
        api_key: the key ``providers_config()`` hands out (the simulator accepts any key).
        any_model: serve every model name on every provider, as if each scenario had
            ``any_model=True``. By default an unknown model gets the vendor's "model not
            found" answer (see ``juggler.testing._models``).
    """

    def __init__(
        self,
        scenarios: Mapping[str, Scenario | Mapping[str, Any]] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = SIM_KEY,
        any_model: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.any_model = any_model
        self._lock = threading.Lock()
        self._providers: dict[str, _Provider] = {}
        self._counts: dict[str, Counter[Decision]] = {}
        self._quotas: dict[str, QuotaWindow] = {}
        for name, scenario in (scenarios or {}).items():
            self.set_scenario(name, scenario)
        self._server: HttpServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.url if self._server else "not started"
        return f"ProviderSimulator({where}, providers={sorted(self._providers)})"

    # ----- scenarios and counts (thread-safe) -----

    def set_scenario(self, name: str, scenario: Scenario | Mapping[str, Any] | None) -> None:
        """Add a provider or replace its scenario, also while the server runs."""
        sc = _as_scenario(scenario)
        wire = WIRES[wire_of(name, sc)]
        served = served_models(name, sc, self.any_model)
        with self._lock:
            self._providers[name] = _Provider(sc, wire, random.Random(sc.seed), served)
            self._counts.setdefault(name, Counter())
            self._quotas.pop(name, None)
            if sc.quota_requests is not None:
                self._quotas[name] = QuotaWindow(sc.quota_requests, sc.quota_window_s)

    def scenario(self, name: str) -> Scenario:
        """The current scenario of ``name``."""
        return self._providers[name].scenario

    @property
    def names(self) -> list[str]:
        """Simulated provider names, in the order they were added."""
        return list(self._providers)

    def counts(self, name: str) -> dict[Decision, int]:
        """Requests per status for ``name``; ``"drop"``/``"hang"`` count unanswered ones."""
        with self._lock:
            return dict(self._counts.get(name, Counter()))

    def total(self, name: str) -> int:
        """All requests that reached ``name``."""
        return sum(self.counts(name).values())

    def reset_counts(self) -> None:
        """Forget every count."""
        with self._lock:
            for counter in self._counts.values():
                counter.clear()

    # ----- addresses -----

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use `with`")
        return self._server.url

    def base_url(self, name: str) -> str:
        """The provider's base URL on the simulator (what ``<NAME>_BASE_URL`` would be)."""
        return provider_config(self.url, name, self._providers[name].scenario)["base_url"]

    def providers_config(self, *names: str) -> dict[str, dict[str, Any]]:
        """``providers=`` for a Juggler: every simulated provider (or only ``names``)."""
        chosen = names or tuple(self._providers)
        return {
            n: provider_config(self.url, n, self._providers[n].scenario, self.api_key)
            for n in chosen
        }

    # ----- running -----

    async def _serve(self, on_ready: Callable[[], None]) -> None:
        server = HttpServer(self._handle, self.host, self.port)
        await server.start()
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._server = server
        on_ready()
        try:
            await self._stopping.wait()
        finally:
            await server.close()

    def start(self) -> ProviderSimulator:
        """Serve from a background thread with its own event loop; returns self."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self._serve(ready.set))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=main, name="juggler-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            self._thread = None
            raise RuntimeError(
                f"the simulator did not start: {failure[0] if failure else 'timeout'}"
            )
        return self

    def stop(self) -> None:
        """Stop serving (open and hung connections are closed) and wait for the thread."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._server = None
        self._loop = None

    def run(self, on_ready: Callable[[ProviderSimulator], None] | None = None) -> None:
        """Serve in the foreground until ``stop()`` or Ctrl-C (the CLI's ``juggler simulate``).

        ``on_ready(sim)`` is called once the port is bound (e.g. to print ``sim.url``).
        """
        try:
            asyncio.run(self._serve(lambda: on_ready(self) if on_ready else None))
        except KeyboardInterrupt:
            pass
        finally:
            self._server = None

    serve_forever = run

    @classmethod
    def spawn(
        cls,
        scenarios: Mapping[str, Scenario | Mapping[str, Any]] | None = None,
        *,
        port: int = 0,
        timeout: float = 20.0,
        any_model: bool = False,
    ) -> SimulatorProcess:
        """Run a simulator in its own process (for benchmarks); returns a handle with
        ``url``, ``base_url()``, ``providers_config()``, ``counts()``, ``set_scenario()`` and
        ``stop()``."""
        from juggler.testing._spawn import spawn

        return spawn(
            {n: _as_scenario(s) for n, s in (scenarios or {}).items()},
            port=port,
            timeout=timeout,
            any_model=any_model,
        )

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> ProviderSimulator:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    # ----- the request handler (runs on the server's loop) -----

    def _handle(self, request: Request) -> tuple[float, Answer]:
        name, _, rest = request.path[1:].partition("/")
        if name == "_sim":
            return 0.0, self._control(request, rest)
        provider = self._providers.get(name)
        if provider is None:
            message = f"no simulated provider {name!r}; simulated: {', '.join(self._providers)}"
            return 0.0, json_answer({"error": {"message": message, "type": "not_found"}}, 404)
        scenario, wire = provider.scenario, provider.wire
        decision = scenario.decide(provider.rng)
        delay = scenario.sample_latency(provider.rng)
        announced: tuple[tuple[str, str], ...] = ()
        quota = self._quotas.get(name)
        if quota is not None:
            with self._lock:
                admitted, left, reset_in = quota.take()
            style = scenario.rate_limit_style or (
                "anthropic" if wire.name == "anthropic" else "openai"
            )
            announced = rate_headers(style, quota.limit, left, reset_in, time.time())
            if not admitted:
                decision, scenario = 429, replace(scenario, retry_after=max(1, round(reset_in)))
        answer: Answer
        if isinstance(decision, str):
            answer = NoAnswer(decision)
        elif decision != 200:
            answer = wire.error(
                decision,
                _MESSAGES.get(decision, f"Simulated error {decision}."),
                scenario.retry_after,
            )
        else:
            answer = self._answer(name, "/" + rest, request, provider)
        if announced and not isinstance(answer, NoAnswer):
            answer.headers = (*answer.headers, *announced)
        status: Decision = answer.kind if isinstance(answer, NoAnswer) else answer.status
        with self._lock:
            self._counts[name][status] += 1
        return delay, answer

    def _answer(self, name: str, path: str, request: Request, provider: _Provider) -> Answer:
        scenario, wire = provider.scenario, provider.wire
        body: Any = None
        if request.body and "multipart/" not in request.headers.get("content-type", ""):
            try:
                body = json.loads(request.body)
            except ValueError:
                return wire.error(400, "the request body is not valid JSON (simulated)")
        call = Call(name, path, request, body, scenario)
        if provider.served is not None:
            model = wire.requested_model(call)
            if model and model not in provider.served:
                return wire.model_not_found(model, call)
        try:
            answer = wire.handle(call)
        except Exception as exc:  # a simulator bug must not look like a provider outage
            return wire.error(500, f"simulator bug: {type(exc).__name__}: {exc}")
        if answer is None:
            return wire.error(404, f"the {wire.name} wire format has no {request.method} {path}")
        if scenario.error_in_200:
            return wire.error_in_200(call)
        if scenario.malformed_json:
            return malformed(answer)
        return answer

    def _control(self, request: Request, rest: str) -> Response | StreamResponse:
        """``/_sim/…``: health, counts, scenarios and reset, for a simulator in another process."""
        if rest == "health":
            return json_answer({"status": "ok", "providers": self.names})
        if rest == "counts":
            with self._lock:
                data = {n: {str(k): v for k, v in c.items()} for n, c in self._counts.items()}
            return json_answer(data)
        if rest == "reset" and request.method == "POST":
            self.reset_counts()
            return json_answer({"status": "ok"})
        if rest == "scenarios":
            return json_answer({n: p.scenario.to_json() for n, p in self._providers.items()})
        if rest.startswith("scenarios/") and request.method in ("POST", "PUT"):
            try:
                self.set_scenario(rest.split("/", 1)[1], json.loads(request.body or b"{}"))
            except (ValueError, TypeError) as exc:
                return json_answer({"error": {"message": str(exc)}}, 400)
            return json_answer({"status": "ok"})
        return json_answer({"error": {"message": f"unknown control path /_sim/{rest}"}}, 404)
