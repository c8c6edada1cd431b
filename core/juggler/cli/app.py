"""The ``juggler`` command: one call per subcommand, the catalogue, a health probe, the
provider simulator, and the demo.

Chains come from ``--target provider/model`` (repeatable, in order) or, without it, from
every provider whose ``<NAME>_API_KEY`` is set. Bad input exits 2, provider failures exit 1,
each with one red line on stderr; ``--debug`` adds the traceback. Nothing ever prompts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

import juggler.cli.jsonout as jsonout
from juggler._attempts import ModelAttempt
from juggler._exceptions import AllProvidersFailedError, StreamInterruptedError
from juggler._types import Capability
from juggler.cli.common import (
    EXIT_PROVIDER,
    CliError,
    JugglerGroup,
    console,
    make_juggler,
    require_text,
)
from juggler.cli.tables import models_used_table, probe_table, providers_table

__all__ = ["app", "main"]

app = typer.Typer(
    cls=JugglerGroup,
    name="juggler",
    help="Reliable LLM calls: ordered fallback across providers, with models_used on every answer.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target", "-t", help="provider/model, repeatable, in fallback order (default: env keys)"
    ),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="print the models_used table")]
JsonOpt = Annotated[
    bool,
    typer.Option(
        "--json", help="print one JSON object (the answer and models_used) and nothing else"
    ),
]


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks on errors (anywhere on the line)")
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="JUGGLER_CONFIG",
            help="a YAML or TOML configuration file (providers, chains, settings)",
        ),
    ] = None,
) -> None:
    """Reliable LLM calls: ordered fallback across providers, with models_used on every answer."""
    if config is not None:
        # The subcommands build their Juggler from the environment (make_juggler), and this
        # process's environment is the one place the option and JUGGLER_CONFIG agree.
        os.environ["JUGGLER_CONFIG"] = str(config)


def _show_attempts(attempts: Sequence[ModelAttempt], answered: str | None = None) -> None:
    out = console()
    out.print(models_used_table(attempts))
    if answered:
        out.print(f"answered by [bold]{answered}[/]")


def _failed_verbose(
    exc: AllProvidersFailedError | StreamInterruptedError, verbose: bool, as_json: bool = False
) -> None:
    if as_json:  # stdout stays machine-readable: the error and every attempt, as JSON
        jsonout.emit(jsonout.failure_json(exc))
    elif verbose:
        console(stderr=True).print(models_used_table(exc.models_used, title="models_used (failed)"))


def _prompt_text(prompt: str) -> str:
    """``-`` reads the prompt from stdin (``echo hi | juggler chat -``)."""
    if prompt != "-":
        return prompt
    if sys.stdin is None or sys.stdin.closed:
        raise CliError("`juggler chat -` reads the prompt from stdin, but stdin is closed")
    return sys.stdin.read().rstrip("\n")


@app.command()
def chat(
    prompt: Annotated[str, typer.Argument(help="the user message; - reads it from stdin")],
    target: TargetOpt = None,
    system: Annotated[str | None, typer.Option(help="a system message")] = None,
    temperature: Annotated[float | None, typer.Option(min=0.0, max=2.0)] = None,
    max_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    stream: Annotated[bool, typer.Option("--stream", help="print tokens as they come")] = False,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Chat: print the answer (-v: and every attempt; --json: both, as JSON;
    --stream --json: one {"delta": …} line per chunk, then the answer's object)."""
    prompt = _prompt_text(prompt)
    require_text(prompt, "the prompt")
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": prompt}
    ]
    params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
    params = {k: v for k, v in params.items() if v is not None}
    with make_juggler(Capability.CHAT, target) as juggler:
        printed = False
        try:
            if stream:
                chunks = juggler.stream_chat(messages, **params)
                for chunk in chunks:
                    if as_json:
                        if chunk:
                            jsonout.emit({"delta": chunk})
                        continue
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                    printed = printed or bool(chunk)
                if as_json:
                    jsonout.emit(jsonout.chat_json(chunks))
                    return
                sys.stdout.write("\n")
                if verbose:
                    _show_attempts(chunks.models_used, f"{chunks.provider}/{chunks.model}")
                return
            answer = juggler.chat(messages, **params)
        except (AllProvidersFailedError, StreamInterruptedError) as exc:
            if printed:  # end the partial answer's line; the error line goes to stderr
                sys.stdout.write("\n")
                sys.stdout.flush()
            _failed_verbose(exc, verbose, as_json)
            raise
    if as_json:
        jsonout.emit(jsonout.chat_json(answer))
        return
    typer.echo(answer.content)
    if verbose:
        _show_attempts(answer.models_used, f"{answer.provider}/{answer.model}")


@app.command()
def embed(
    texts: Annotated[list[str], typer.Argument(help="one or more texts")],
    target: TargetOpt = None,
    input_type: Annotated[
        str | None, typer.Option(help="query or document (retrieval embedders)")
    ] = None,
    dimensions: Annotated[int | None, typer.Option(min=1)] = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Embed texts: print how many vectors and their dimensions (--json: the vectors too)."""
    for i, text in enumerate(texts):
        require_text(text, f"text #{i + 1}")
    with make_juggler(Capability.EMBED, target) as juggler:
        try:
            vectors = juggler.embed(texts, input_type=input_type, dimensions=dimensions)
        except AllProvidersFailedError as exc:
            _failed_verbose(exc, verbose, as_json)
            raise
    if as_json:
        jsonout.emit(jsonout.embed_json(vectors))
        return
    typer.echo(
        f"{len(vectors)} vector(s) x {vectors.dimensions} dimensions "
        f"({vectors.provider}/{vectors.model})"
    )
    if verbose:
        _show_attempts(vectors.models_used)


@app.command()
def rerank(
    query: Annotated[str, typer.Argument(help="the query")],
    documents: Annotated[list[str], typer.Argument(help="documents to order")],
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, help="keep the best k")] = None,
    target: TargetOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Order documents by relevance to a query, best first."""
    require_text(query, "the query")
    with make_juggler(Capability.RERANK, target) as juggler:
        try:
            ranked = juggler.rerank(query, documents, top_k)
        except AllProvidersFailedError as exc:
            _failed_verbose(exc, verbose, as_json)
            raise
    if as_json:
        jsonout.emit(jsonout.rerank_json(ranked))
        return
    for rank, (doc, score) in enumerate(zip(ranked, ranked.scores, strict=True), start=1):
        typer.echo(f"{rank}. {score:.4f}  {doc}")
    if verbose:
        _show_attempts(ranked.models_used, f"{ranked.provider}/{ranked.model}")


@app.command()
def transcribe(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="an audio file")
    ],
    language: Annotated[str | None, typer.Option(help="ISO-639-1 hint, e.g. en")] = None,
    prompt: Annotated[str | None, typer.Option(help="a spelling/context hint")] = None,
    target: TargetOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Speech to text: print the transcript."""
    with make_juggler(Capability.TRANSCRIBE, target) as juggler:
        try:
            text = juggler.transcribe(file, language=language, prompt=prompt)
        except AllProvidersFailedError as exc:
            _failed_verbose(exc, verbose, as_json)
            raise
    if as_json:
        jsonout.emit(jsonout.transcript_json(text))
        return
    typer.echo(text.text)
    if verbose:
        _show_attempts(text.models_used, f"{text.provider}/{text.model}")


@app.command()
def speak(
    text: Annotated[str, typer.Argument(help="what to say")],
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the audio")],
    voice: Annotated[str | None, typer.Option(help="voice name (default: the provider's)")] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="mp3, wav, opus, aac, flac, pcm")
    ] = None,
    target: TargetOpt = None,
    verbose: VerboseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Text to speech: write the audio file."""
    require_text(text, "the text")
    fmt = format or (output.suffix.lstrip(".").lower() or "mp3")
    if output.parent and not output.parent.exists():
        raise CliError(f"directory {output.parent} does not exist")
    if output.is_dir():  # refused before the (paid) request, not after it
        raise CliError(f"--output {output} is a directory; give a file name")
    with make_juggler(Capability.SPEAK, target) as juggler:
        try:
            audio = juggler.speak(text, voice, fmt)
        except AllProvidersFailedError as exc:
            _failed_verbose(exc, verbose, as_json)
            raise
    audio.write_to_file(output)
    if as_json:
        jsonout.emit(jsonout.speech_json(audio, output))
        return
    typer.echo(
        f"wrote {len(audio)} bytes of {audio.content_type} to {output} "
        f"({audio.provider}/{audio.model})"
    )
    if verbose:
        _show_attempts(audio.models_used)


@app.command()
def providers(as_json: JsonOpt = False) -> None:
    """The built-in catalogue: keys set (never shown), models, tiers, base URLs."""
    from juggler.providers import WIRE_FORMATS

    if as_json:
        jsonout.emit(jsonout.providers_json(os.environ))
        return

    console().print(providers_table(os.environ, available_wires=WIRE_FORMATS))


@app.command()
def health(
    timeout: Annotated[float, typer.Option(min=0.1, help="seconds per probe")] = 10.0,
    as_json: JsonOpt = False,
) -> None:
    """Probe every provider whose key is set with one tiny request; exit 1 if any is down.

    A provider that answers 429 is "rate limited", not down: it is up and the key works."""
    from juggler.cli.health import configured_providers, probe_all

    juggler = make_juggler(Capability.CHAT, None, timeout=timeout, retries=0, deadline=timeout)
    try:
        if not configured_providers(juggler):
            raise CliError("no provider has a key set (see `juggler providers`)")
        results = probe_all(juggler)
        budgets = juggler.get_health_status().get("budgets") or {}
        if as_json:
            jsonout.emit({**jsonout.health_json(results), "budgets": budgets})
        else:
            console().print(probe_table(results))
            for key, b in budgets.items():
                console().print(
                    f"budget {key}: ${b['spent_usd']:.4f} of ${b['usd']:.2f} per {b['per']}, "
                    f"resets {b['resets_at']}"
                )
    finally:
        juggler.close()
    down = [r.provider for r in results if r.state == "down"]
    if down:
        raise CliError(f"{len(down)} of {len(results)} down: {', '.join(down)}", EXIT_PROVIDER)


@app.command()
def simulate(
    scenarios: Annotated[
        Path | None,
        typer.Option(
            "--scenarios", "-s", exists=True, dir_okay=False, help="JSON/YAML: name -> fields"
        ),
    ] = None,
    provider: Annotated[
        list[str] | None,
        typer.Option("--provider", "-p", help="a healthy provider to serve (with --only)"),
    ] = None,
    only: Annotated[
        bool,
        typer.Option("--only", help="serve only the providers of -s and -p (default: all)"),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="port to listen on (0: a free one)")
    ] = 0,
    any_model: Annotated[
        bool,
        typer.Option(
            "--any-model", help="serve every model name (default: unknown models answer 404)"
        ),
    ] = False,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="stop after this many seconds")
    ] = None,
) -> None:
    """Run the provider simulator on 127.0.0.1 in the foreground (Ctrl-C stops).

    Every catalogued provider is served, healthy unless the scenario file says otherwise."""
    from juggler.cli.simulate import load_scenarios, run_simulator

    chosen = load_scenarios(scenarios, provider or (), only=only)
    run_simulator(chosen, console(), duration=duration, port=port, any_model=any_model)


@app.command()
def demo(
    live: Annotated[
        bool, typer.Option("--live", help="use the real providers whose keys are set")
    ] = False,
) -> None:
    """The story: fallback, streaming, all five capabilities, a circuit, a hedge."""
    from juggler.cli.demo.story import run_demo

    run_demo(console(), live=live)


def main() -> None:
    """Console-script entry point (``juggler``)."""
    app()
