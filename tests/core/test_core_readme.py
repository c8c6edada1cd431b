"""The README stays true: its provider table is the catalogue, its exception tree the code's."""

from __future__ import annotations

from pathlib import Path

import juggler
from juggler import CATALOG

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_provider_table_matches_the_catalogue():
    for name, spec in CATALOG.items():
        models = ", ".join(f"{c.value} `{m}`" for c, m in spec.models.items())
        row = (
            f"| {name} | `{spec.api_key_env}` | `{spec.base_url}` | {spec.wire} | {spec.tier} |"
            f" {models} |"
        )
        assert row in README, f"README row for {name} is out of date; expected:\n{row}"


def test_the_readme_exception_tree_names_every_exception():
    errors = [n for n in juggler.__all__ if n.endswith("Error")]
    tree = README.split("## The exception tree", 1)[1].split("```", 2)[1]
    assert [n for n in errors if n not in tree] == []


def test_the_readme_shows_the_two_commands():
    assert "make demo" in README and "make test" in README


def _python_blocks(containing: str) -> list[str]:
    blocks = README.split("```python\n")[1:]
    return [b.split("```", 1)[0] for b in blocks if containing in b]


def test_the_readme_simulator_and_fake_provider_examples_run_as_written():
    blocks = _python_blocks("from juggler.testing import")
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_the_readme_exception_tree_has_the_same_classes_as_the_code_tree():
    import re

    import juggler._exceptions as errors

    def names(tree: str) -> set[str]:
        return set(re.findall(r"\b([A-Z][A-Za-z]+Error)\b", tree))

    readme_tree = README.split("## The exception tree", 1)[1].split("```", 2)[1]
    code_tree = (errors.__doc__ or "").split("::", 1)[1].split("A ``ProviderError``", 1)[0]
    assert names(readme_tree) == names(code_tree)


def test_the_readme_monitoring_example_counts_answers_by_their_winner():
    [block] = _python_blocks("result.winner.provider")
    exec(compile(block, "README.md", "exec"), {})
