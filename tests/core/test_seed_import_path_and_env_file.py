"""The seed's own import path works, and the seed API reads a ``.env`` file in the working
directory without overriding variables already set (python-dotenv does the parsing)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
import pytest

from juggler import CATALOG, BackupModelRouter, InvalidRequestError, Juggler
from juggler._env import load_env_file


def test_the_seed_import_path_is_a_thin_alias_of_the_seed_api() -> None:
    import juggler
    from dgc_backup_models import BackupModelRouter as Router
    from dgc_backup_models import Provider, complete, quick_chat

    assert Router is juggler.BackupModelRouter and Provider is juggler.Provider
    assert complete is juggler.complete and quick_chat is juggler.quick_chat


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory of our own, and no provider key in the process environment."""
    for spec in CATALOG.values():
        monkeypatch.delenv(spec.api_key_env, raising=False)
        monkeypatch.delenv(spec.base_url_env, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def recording_client(seen: list[str]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        body = json.loads(request.content)
        return httpx.Response(200, json={"model": body["model"], "choices": [{"message": {}}]})

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def test_the_seed_router_reads_a_dotenv_file_in_the_working_directory(clean_env: Path) -> None:
    (clean_env / ".env").write_text("# keys\nGROQ_API_KEY=gsk-from-file\n")
    seen: list[str] = []
    router = BackupModelRouter(http_client=recording_client(seen))
    assert [str(t) for t in router.chain("chat")] == ["groq/llama-3.1-8b-instant"]
    router.chat("hi")
    assert seen == ["Bearer gsk-from-file"]
    Juggler.close(router)  # the seed's own close() is awaitable


def test_a_variable_already_set_wins_over_the_dotenv_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("GROQ_API_KEY=gsk-from-file\n")
    monkeypatch.setenv("GROQ_API_KEY", "gsk-exported")
    seen: list[str] = []
    router = BackupModelRouter(http_client=recording_client(seen))
    router.chat("hi")
    assert seen == ["Bearer gsk-exported"]
    Juggler.close(router)  # the seed's own close() is awaitable


def test_load_env_file_merges_under_the_environment_and_writes_nothing(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "keys.env").write_text('OPENAI_API_KEY="sk-quoted"\nexport GROQ_API_KEY=g\n')
    env = load_env_file(clean_env / "keys.env", {"GROQ_API_KEY": "set"})
    assert env == {"OPENAI_API_KEY": "sk-quoted", "GROQ_API_KEY": "set"}
    assert "OPENAI_API_KEY" not in os.environ


def test_an_env_file_that_does_not_exist_is_a_clear_error(clean_env: Path) -> None:
    with pytest.raises(InvalidRequestError, match="does not exist"):
        load_env_file(clean_env / "missing.env")


def test_without_python_dotenv_the_error_says_how_to_install_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text("GROQ_API_KEY=g\n")
    monkeypatch.setitem(sys.modules, "dotenv", None)  # import dotenv now raises ImportError
    with pytest.raises(ImportError, match=r"juggler\[dotenv\]"):
        BackupModelRouter()
