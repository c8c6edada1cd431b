"""`juggler demo`: the story runs end to end on the simulated fleet, fast, and exits 0; and
the pieces it is made of (tables, the story line, the WAV, the health recorder) behave."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator

import pytest
from rich.console import Console
from typer.testing import CliRunner

from juggler import CATALOG, ModelAttempt, Target
from juggler.cli.app import app
from juggler.cli.demo.fleet import HealthRecorder, story_line, tiny_wav
from juggler.cli.demo.resilience import hedging_available, resilience_available
from juggler.cli.tables import health_rows, health_table, models_used_table
from juggler.testing import ProviderSimulator, Scenario

runner = CliRunner()


def no_keys() -> dict[str, str | None]:
    """Every catalogue variable unset: the demo must not need any."""
    env: dict[str, str | None] = {}
    for spec in CATALOG.values():
        env[spec.api_key_env] = None
        env[spec.base_url_env] = None
    return env


def attempt(provider: str, outcome: str, status: int | None = None, **kw: object) -> ModelAttempt:
    return ModelAttempt(
        provider=provider,
        model="m",
        success=outcome == "success",
        outcome=outcome,  # type: ignore[arg-type]
        attempt=kw.pop("attempt", 1),  # type: ignore[arg-type]
        status_code=status,
        **kw,  # type: ignore[arg-type]
    )


def render(renderable: object) -> str:
    console = Console(width=160, file=io.StringIO())
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


# ----- the whole story -----


@pytest.fixture(scope="module")
def demo_run() -> Iterator[tuple[object, float]]:
    started = time.perf_counter()
    result = runner.invoke(app, ["demo"], env=no_keys())
    yield result, time.perf_counter() - started


def test_demo_runs_end_to_end_without_keys_and_exits_0(demo_run: tuple[object, float]) -> None:
    result, _ = demo_run
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]


def test_demo_finishes_well_under_a_minute(demo_run: tuple[object, float]) -> None:
    _, seconds = demo_run
    assert seconds < 20


def test_demo_tells_every_step(demo_run: tuple[object, float]) -> None:
    out = demo_run[0].stdout  # type: ignore[attr-defined]
    for heading in (
        "A chat that falls back",
        "A streamed answer",
        "An embedding",
        "A rerank",
        "A transcription",
        "A speech call",
        "An outage opens a circuit",
        "A hedged request beats a slow provider",
    ):
        assert heading in out


def test_demo_fallback_goes_from_cerebras_429_over_groq_500_to_nvidia(
    demo_run: tuple[object, float],
) -> None:
    out = demo_run[0].stdout  # type: ignore[attr-defined]
    assert "cerebras 429 → groq 500 → nvidia answered" in out


def test_demo_stream_falls_over_the_overloaded_anthropic(demo_run: tuple[object, float]) -> None:
    assert "anthropic 529 → nvidia answered" in demo_run[0].stdout  # type: ignore[attr-defined]


def test_demo_shows_models_used_and_health_tables(demo_run: tuple[object, float]) -> None:
    out = demo_run[0].stdout  # type: ignore[attr-defined]
    assert out.count("models_used") >= 6
    assert out.count("health") >= 6


def test_demo_resilience_steps_run_or_say_they_need_the_engine(
    demo_run: tuple[object, float],
) -> None:
    out = demo_run[0].stdout  # type: ignore[attr-defined]
    if resilience_available():
        assert "circuit open" in out
        assert "the circuit did not open" not in out
    else:
        assert "this step needs the resilience engine (circuit breakers)" in out
    if hedging_available():
        assert "hedge" in out
    else:
        assert "this step needs the resilience engine (hedge_after_ms)" in out


# ----- --live -----


def test_demo_live_without_any_key_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["demo", "--live"], env=no_keys())
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--live needs at least one provider key" in lines[0]


def test_demo_live_skips_steps_whose_capability_has_no_provider() -> None:
    # "Live" providers here are the simulator reached through the environment, as real keys
    # and base URLs would be.
    with ProviderSimulator({"groq": Scenario(), "openai": Scenario()}) as sim:
        env = no_keys()
        for name in ("groq", "openai"):
            env[CATALOG[name].api_key_env] = "sim-key"
            env[CATALOG[name].base_url_env] = sim.base_url(name)
        result = runner.invoke(app, ["demo", "--live"], env=env)
    assert result.exit_code == 0, result.output
    assert "skipped: no configured provider offers rerank" in result.stdout
    assert "A speech call" in result.stdout


# ----- the pieces -----


def test_tiny_wav_is_a_valid_wav_file() -> None:
    with wave.open(io.BytesIO(tiny_wav(seconds=0.1, rate=8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.getnframes() == 800


def test_story_line_tells_the_attempts_in_order() -> None:
    attempts = [
        attempt("cerebras", "error", 429, attempt=1),
        attempt("groq", "skipped", error="circuit open", attempt=2),
        attempt("nvidia", "success", 200, attempt=3, elapsed_ms=41.2),
    ]
    assert story_line(attempts) == (
        "cerebras 429 → groq skipped (circuit open) → nvidia answered in 41 ms"
    )


def test_models_used_table_has_a_row_per_attempt_with_flags() -> None:
    attempts = [
        attempt("groq", "error", 500, error_type="ServerError", error="boom"),
        attempt("nvidia", "success", 200, attempt=2, hedged=True, retry=True),
    ]
    text = render(models_used_table(attempts))
    assert "ServerError" in text and "boom" in text
    assert "retry hedged" in text


def test_models_used_table_accepts_plain_dicts() -> None:
    text = render(models_used_table([dict(attempt("groq", "success", 200))]))
    assert "groq" in text and "success" in text


def test_health_rows_flatten_nested_and_flat_reports() -> None:
    figures = {"requests": 3, "failures": 1, "circuit_state": "open"}
    nested = health_rows({"groq": {"llama": figures}})
    flat = health_rows({"groq/llama": figures})
    assert nested == flat
    assert nested[0]["provider"] == "groq" and nested[0]["model"] == "llama"
    assert "open" in render(health_table({"groq/llama": figures}))


def test_health_recorder_counts_requests_failures_and_latency() -> None:
    recorder = HealthRecorder()
    target = Target(provider="groq", model="llama")
    recorder(target, attempt("groq", "error", 500, elapsed_ms=10.0, error_type="ServerError"))
    recorder(target, attempt("groq", "success", 200, elapsed_ms=30.0))
    recorder(target, attempt("groq", "skipped", error="circuit open"))
    row = recorder.status()["groq/llama"]
    assert (row["requests"], row["failures"], row["success_rate"]) == (2, 1, 0.5)
    assert row["p50_ms"] == 20.0 and row["last_error"] == "500 ServerError"


def test_demo_without_the_resilience_engine_says_what_steps_need_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import juggler.cli.demo.resilience as resilience
    import juggler.cli.demo.story as demo

    for module in (resilience, demo):
        monkeypatch.setattr(module, "resilience_available", lambda: False, raising=False)
    monkeypatch.setattr(resilience, "hedging_available", lambda: False)
    result = runner.invoke(app, ["demo"], env=no_keys())
    assert result.exit_code == 0, result.output
    assert "this step needs the resilience engine (circuit breakers)" in result.stdout
    assert "this step needs the resilience engine (hedge_after_ms)" in result.stdout


def test_demo_outage_keeps_its_circuit_open_however_slow_the_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a loaded CI machine seconds can pass between two calls. The outage step's circuit
    # must stay open regardless (it once had a 0.5 s cool-down on the wall clock), and the
    # recovery must not wait for real.
    import juggler.cli.demo.resilience as resilience

    class LoadedMachineClock(resilience.DemoClock):
        """Every reading is 0.6 s later than real time moved: a very slow machine."""

        def __init__(self) -> None:
            super().__init__()
            self.reads = 0

        def __call__(self) -> float:
            self.reads += 1
            return super().__call__() + 0.6 * self.reads

    monkeypatch.setattr(resilience, "DemoClock", LoadedMachineClock)
    started = time.perf_counter()
    result = runner.invoke(app, ["demo"], env=no_keys())
    assert result.exit_code == 0, result.output
    if resilience_available():
        assert "skips it without a request" in result.stdout
        assert "the circuit did not open" not in result.stdout
        assert "received 1 request(s) since its circuit opened" in result.stdout
    assert time.perf_counter() - started < 20


def test_demo_hedge_step_says_who_won_the_race() -> None:
    # The hedge normally wins; a machine too loaded for that is reported, not hidden.
    from juggler.cli.demo.resilience import SLOW_MS

    result = runner.invoke(app, ["demo"], env=no_keys())
    assert result.exit_code == 0, result.output
    if hedging_available():
        won = f"instead of about {SLOW_MS:.0f} ms" in result.stdout
        lost = "the slow target answered first this time" in result.stdout
        assert won != lost


def test_demo_hedge_step_says_what_the_hedged_call_cost() -> None:
    result = runner.invoke(app, ["demo"], env=no_keys())
    assert result.exit_code == 0, result.output
    if hedging_available():
        line = next(s for s in result.stdout.splitlines() if "hedged call cost" in s)
        assert "$0.0" in line and "at demo prices" in line


def test_the_cli_attempt_table_has_a_cost_column() -> None:
    from juggler import ModelAttempt
    from juggler.cli.tables import models_used_table

    attempt = ModelAttempt(
        provider="openai", model="m", success=True, outcome="success", attempt=1, cost_usd=0.00042
    )
    table = models_used_table([attempt])
    assert "cost" in [c.header for c in table.columns]
    assert "$0.000420" in list(table.columns[8].cells)
