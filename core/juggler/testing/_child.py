"""The child side of ``ProviderSimulator.spawn()``: serve the scenarios given as JSON on the
command line, print the URL once listening, and run until killed."""

from __future__ import annotations

import json
import sys

from juggler.testing._scenario import Scenario
from juggler.testing._simulator import ProviderSimulator
from juggler.testing._spawn import READY

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Child entry point: serve the scenarios given as JSON, print the URL, run until killed."""
    args = sys.argv[1:] if argv is None else argv
    config = json.loads(args[0]) if args else {}
    scenarios = {n: Scenario.from_json(s) for n, s in config.get("scenarios", {}).items()}
    sim = ProviderSimulator(
        scenarios, port=int(config.get("port", 0)), any_model=bool(config.get("any_model"))
    )
    sim.run(lambda s: print(READY + s.url, flush=True))


if __name__ == "__main__":
    main()
