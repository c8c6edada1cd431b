"""Reading API keys from a ``.env`` file, as the seed promises ("Add to your .env or export").

:func:`load_env_file` parses the file with python-dotenv (the ``dotenv`` extra: ``pip install
"juggler[dotenv]"``) and returns the environment a Juggler should read: the file's variables
under the process environment, so a variable that is already set always wins. Nothing is
written to ``os.environ``: the mapping is handed to one Juggler (``env=``), keeping
configuration on the instance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from juggler._exceptions import InvalidRequestError

__all__ = ["DOTENV_MISSING", "load_env_file", "seed_environment"]

DOTENV_MISSING = (
    "reading {path} needs python-dotenv, which is not installed: "
    'pip install "juggler[dotenv]" (or export the variables instead)'
)


def load_env_file(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables of the ``.env`` file at ``path`` merged under ``environ`` (default
    ``os.environ``): a variable already set is never overridden. Raises
    ``InvalidRequestError`` when the file does not exist, and ``ImportError`` naming the
    extra when python-dotenv is not installed."""
    file = Path(path)
    if not file.is_file():
        raise InvalidRequestError(f"env_file {str(file)!r} does not exist")
    try:
        from dotenv import dotenv_values
    except ImportError as exc:
        raise ImportError(DOTENV_MISSING.format(path=file)) from exc
    current = dict(os.environ if environ is None else environ)
    from_file = {k: v for k, v in dotenv_values(file).items() if v is not None}
    return {**from_file, **current}


def seed_environment(
    env_file: str | os.PathLike[str] | None = ".env", environ: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """The seed API's environment: ``env_file`` (default ``.env`` in the working directory)
    merged under the process environment when that file exists; None (read the process
    environment as it is) when it does not or ``env_file`` is None."""
    if env_file is None or not Path(env_file).is_file():
        return None
    return load_env_file(env_file, environ)
