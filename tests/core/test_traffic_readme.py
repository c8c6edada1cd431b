"""The README's "Spreading load" and "Configuration file" examples run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _blocks(section: str) -> list[str]:
    body = README.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.split("```", 1)[0] for b in body.split("```python\n")[1:]]


@pytest.mark.parametrize("section", ["Spreading load", "Configuration file"])
def test_the_readme_section_example_runs_as_written(section: str) -> None:
    [block] = _blocks(section)
    exec(compile(block, f"README.md ({section})", "exec"), {})


def test_the_readme_names_the_strategies_the_code_knows() -> None:
    from juggler._policy.balance import STRATEGIES

    table = README.split("\n## Spreading load\n", 1)[1].split("**Rate limits.**", 1)[0]
    assert [s for s in STRATEGIES if f"| `{s}`" not in table] == []
