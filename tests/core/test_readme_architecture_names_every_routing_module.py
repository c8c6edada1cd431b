"""The README's Architecture section names every module of the routing package."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_architecture_section_names_every_routing_module() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Architecture") : text.index("## Tests")]
    modules = sorted(p.name for p in (ROOT / "core/juggler/_routing").glob("[!_]*.py"))
    assert [m for m in modules if m not in section] == []
