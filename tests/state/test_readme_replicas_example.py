"""The README's "Running many replicas" example runs as written, against a real Redis."""

from __future__ import annotations

from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_four_worker_example_sends_the_dead_provider_five_requests_in_all(
    redis_url, monkeypatch, capsys
):
    section = README.split("## Running many replicas", 1)[1].split("\n## ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("JUGGLER_STATE_URL", redis_url)

    exec(compile(block, "README.md", "exec"), {})

    assert capsys.readouterr().out.strip().splitlines()[-1] == "5"
