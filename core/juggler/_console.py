"""The ``juggler`` console script. It lives outside ``juggler.cli`` so that a missing
``cli`` extra is a one-line hint, not a traceback."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the CLI, or say how to install it."""
    try:
        from juggler.cli import main as cli_main
    except ImportError as exc:  # rich or typer missing
        sys.stderr.write(
            f"the juggler command needs the cli extra ({exc.name} is missing): "
            'pip install "juggler[cli]"\n'
        )
        sys.exit(2)
    cli_main()
