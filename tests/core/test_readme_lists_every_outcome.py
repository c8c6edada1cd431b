"""The README's description of ``ModelAttempt`` names every outcome an attempt can have."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from juggler._attempts import Outcome

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_field_list_names_every_attempt_outcome():
    text = README.read_text(encoding="utf-8")
    start = text.index("`ModelAttempt` is a frozen pydantic model")
    fields = text[start : text.index("`attempt` (1, 2, 3", start)]
    missing = [o for o in get_args(Outcome) if f"`{o}`" not in fields]
    assert missing == []
