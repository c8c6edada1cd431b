"""The README's cost section stays true: its example runs, its coverage list is the data's."""

from __future__ import annotations

from pathlib import Path

from juggler import CATALOG
from juggler._policy.cost import Pricer, Units
from juggler._types import Capability, Usage

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Cost, budgets and tracing", 1)[1].split("\n## ", 1)[0]

# What the README lists as not priced by the bundled genai-prices data.
UNPRICED = {
    ("groq", "playai-tts"),
    ("nvidia", "meta/llama-3.1-8b-instruct"),
    ("nvidia", "nvidia/nv-embedqa-e5-v5"),
    ("nvidia", "nvidia/nv-rerankqa-mistral-4b-v3"),
    ("cohere", "embed-english-v3.0"),
    ("cohere", "rerank-v3.5"),
    ("together", "BAAI/bge-base-en-v1.5"),
    ("together", "Salesforce/Llama-Rank-V1"),
    ("voyage", "rerank-2.5"),
    ("jina", "jina-embeddings-v3"),
    ("jina", "jina-reranker-v2-base-multilingual"),
}

UNITS = {
    Capability.RERANK: Units(searches=1),
    Capability.TRANSCRIBE: Units(audio_seconds=60),
    Capability.SPEAK: Units(characters=1000),
}


def test_the_readme_cost_example_runs_as_written() -> None:
    block = SECTION.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})


def test_the_readme_coverage_list_is_what_the_bundled_prices_cover() -> None:
    pricer = Pricer()
    unpriced = set()
    rows = [(name, cap, model) for name, s in CATALOG.items() for cap, model in s.models.items()]
    for name, cap, model in rows:
        usage = None if cap in UNITS else Usage.of(1000, 1000)
        if pricer.price(name, model, cap, usage, units=UNITS.get(cap)) is None:
            unpriced.add((name, model))
    assert unpriced == UNPRICED
    assert f"{len(rows) - len(UNPRICED)} of the {len(rows)} default models are priced" in SECTION
    for _, model in UNPRICED - {(p, m) for p, m in UNPRICED if p in ("nvidia", "jina")}:
        assert f"`{model}`" in SECTION


def test_the_readme_cost_tracking_use_case_runs_and_prints_what_it_says(capsys) -> None:
    block = SECTION.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    expected = [line.removeprefix("# ") for line in block.splitlines()[-4:]]
    assert printed == expected
