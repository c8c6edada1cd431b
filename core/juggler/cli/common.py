"""Plumbing shared by the ``juggler`` subcommands: consoles, error lines and exit codes, and
building a Juggler from ``--target`` options and the environment.

Every failure ends as one red line on stderr and an exit code: 2 for bad input (usage errors,
``InvalidRequestError``), 1 for provider failures, 130 for Ctrl-C. ``--debug`` (anywhere on
the command line) adds the traceback. The command group's ``main`` does this in one place, so
the console script and typer's ``CliRunner`` behave alike.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from juggler._exceptions import (
    AllProvidersFailedError,
    InvalidRequestError,
    JugglerError,
    ProviderError,
    StreamInterruptedError,
)
from juggler._juggler import Juggler
from juggler._types import Capability, Target
from juggler.providers.catalog import CATALOG

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_PROVIDER",
    "CliError",
    "JugglerGroup",
    "console",
    "error_line",
    "exit_code_of",
    "make_juggler",
]

EXIT_BAD_INPUT = 2
EXIT_PROVIDER = 1
EXIT_INTERRUPTED = 130
_WIDTH_WHEN_PIPED = 120


class CliError(Exception):
    """A failure the command reports as one line, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr); wider than 80 columns when output is piped."""
    c = Console(stderr=stderr, highlight=False)
    if not c.is_terminal:
        c = Console(stderr=stderr, highlight=False, width=max(c.width, _WIDTH_WHEN_PIPED))
    return c


def exit_code_of(exc: BaseException) -> int:
    """2 for bad input, 1 for provider failures and anything unexpected, 130 for Ctrl-C."""
    if isinstance(exc, CliError):
        return exc.code
    if _is_usage_error(exc):
        return EXIT_BAD_INPUT
    if _is_click_error(exc):
        return int(getattr(exc, "exit_code", EXIT_PROVIDER))
    if isinstance(exc, KeyboardInterrupt | typer.Abort):
        return EXIT_INTERRUPTED
    if isinstance(exc, InvalidRequestError):
        return EXIT_BAD_INPUT
    return EXIT_PROVIDER


def error_line(exc: BaseException) -> str:
    """The one line that describes ``exc`` (no newlines, no traceback)."""
    if _is_click_error(exc):
        message = str(exc.format_message())  # type: ignore[attr-defined]
        ctx = getattr(exc, "ctx", None)
        if ctx is not None and _is_usage_error(exc):
            message = f"{ctx.command_path}: {message}"
    elif isinstance(exc, KeyboardInterrupt | typer.Abort):
        message = "interrupted"
    elif isinstance(exc, AllProvidersFailedError):
        parts = [_attempt_brief(a) for a in exc.models_used]
        head = str(exc).splitlines()[0].rstrip(":")
        message = f"{head}: " + "; ".join(parts) if parts else head
    elif isinstance(exc, StreamInterruptedError | ProviderError | CliError | JugglerError):
        message = str(exc)
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)"
    return " ".join(message.split())


def _is_click_error(exc: BaseException) -> bool:
    """A click (or typer-vendored click) exception: it knows its message and exit code.

    Typer >= 0.20 vendors click, so ``click.ClickException`` is not the class it raises.
    """
    return callable(getattr(exc, "format_message", None)) and hasattr(exc, "exit_code")


def _is_usage_error(exc: BaseException) -> bool:
    return _is_click_error(exc) and any(c.__name__ == "UsageError" for c in type(exc).__mro__)


def _attempt_brief(attempt: Any) -> str:
    status = f" HTTP {attempt.status_code}" if attempt.status_code else ""
    kind = f" {attempt.error_type}" if attempt.error_type else ""
    if attempt.outcome == "skipped":
        return f"{attempt.provider}/{attempt.model} skipped ({attempt.error})"
    return f"{attempt.provider}/{attempt.model}{status}{kind}"


def _split_debug(args: Sequence[str]) -> tuple[list[str], bool]:
    """Accept ``--debug`` anywhere before ``--``; the group option itself sits in front."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    debug = "--debug" in args[:end]
    if debug:
        args = [a for a in args[:end] if a != "--debug"] + args[end:]
        args.insert(0, "--debug")
    return args, debug


class JugglerGroup(TyperGroup):
    """The command group: runs the command, and turns every failure into one line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; errors become one red line and an exit code (see module doc)."""
        argv, debug = _split_debug(sys.argv[1:] if args is None else args)
        code = 0
        try:
            result = super().main(
                argv, prog_name or "juggler", complete_var, standalone_mode=False, **extra
            )
            code = result if isinstance(result, int) else 0
        except typer.Exit as exc:
            code = exc.exit_code
        except (Exception, KeyboardInterrupt, typer.Abort) as exc:
            if debug:
                traceback.print_exception(exc, file=sys.stderr)
            code = exit_code_of(exc)
            if type(exc).__name__ != "NoArgsIsHelpError":  # the help is already printed
                console(stderr=True).print(
                    Text(f"error: {error_line(exc)}", style="bold red"), soft_wrap=True
                )
        if standalone_mode:
            sys.exit(code)
        return code


def parse_targets(values: Sequence[str] | None, env: Mapping[str, str]) -> list[Target] | None:
    """``--target provider/model`` values, checked before any request is sent."""
    if not values:
        return None
    targets = []
    for value in values:
        target = Target.parse(value)
        spec = CATALOG.get(target.provider)
        if spec is None:
            raise InvalidRequestError(
                f"unknown provider {target.provider!r} in --target {value!r}; "
                f"known: {', '.join(sorted(CATALOG))}"
            )
        if not env.get(spec.api_key_env):
            raise InvalidRequestError(
                f"--target {value}: {spec.api_key_env} is not set (see `juggler providers`)"
            )
        targets.append(target)
    return targets


def make_juggler(
    capability: Capability,
    targets: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **settings: Any,
) -> Juggler:
    """A Juggler from the environment; ``targets`` (``--target``) sets the chain of
    ``capability``, otherwise every provider with a key set is used, in the default order.
    With ``juggler --config FILE`` (or ``JUGGLER_CONFIG``) the file gives the providers,
    chains and settings, and ``--target`` still overrides the chain of ``capability``."""
    environ = dict(os.environ if env is None else env)
    chain = parse_targets(targets, environ)
    kwargs: dict[str, Any] = {}
    config = environ.get("JUGGLER_CONFIG")
    if config:
        from juggler._configfile import load_config

        kwargs = load_config(config, environ)
    if chain:
        kwargs[capability.value] = chain
    return Juggler(env=environ, **{**kwargs, **settings})


def require_text(value: str, what: str) -> str:
    """Reject an empty or blank argument with a usage-style error (exit code 2)."""
    if not value or not value.strip():
        raise CliError(f"{what} is empty")
    return value
