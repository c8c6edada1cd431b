"""The configuration file: YAML and TOML into Juggler keyword arguments, its JSON Schema, and
errors that name the file, the line and the key."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from pydantic import SecretStr

from juggler import Juggler
from juggler._config import ProviderConfig
from juggler._configfile import ConfigError, load_config, schema_path

DATA = Path(__file__).parent / "data"
ENV = {
    "OPENAI_API_KEY": "sk-test-1",
    "OPENAI_EU_API_KEY": "sk-test-2",
    "AZURE_OPENAI_API_KEY": "az-test",
    "OPENROUTER_API_KEY": "or-test",
}

# What a caller writes with the Python API for the example files.
PYTHON_KWARGS: dict[str, Any] = {
    "providers": {
        "openai": ProviderConfig(api_key=SecretStr("sk-test-1")),
        "openai-eu": ProviderConfig(
            like="openai", api_key=SecretStr("sk-test-2"), base_url="https://eu.api.openai.com/v1"
        ),
        "azure": ProviderConfig(
            api_key=SecretStr("az-test"),
            base_url="https://my-resource.openai.azure.com",
            api_version="2024-10-21",
        ),
        "openrouter": ProviderConfig(
            api_key=SecretStr("or-test"),
            headers={"HTTP-Referer": "https://example.org", "X-Title": "Example app"},
        ),
    },
    "chat": [
        {
            "group": [
                "openai/gpt-4o-mini",
                {"target": "openai-eu/gpt-4o-mini", "weight": 2, "rpm": 500, "tpm": 200000},
                {"target": "azure/gpt-4o-mini", "weight": 1},
            ],
            "strategy": "weighted",
        },
        {"target": "openrouter/openai/gpt-4o-mini", "tier": 2},
    ],
    "embed": ["openai/text-embedding-3-small"],
    "timeout": 30,
    "retries": 1,
    "hedge": "p95",
    "circuit_cooldown": 15,
    "tier_neighbours": True,
    "budgets": {"daily_usd": 5},
    "limiter": {"storage": "memory://", "strategy": "moving-window"},
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["juggler.example.yaml", "juggler.example.toml"])
def test_a_config_file_gives_the_python_api_kwargs(name: str) -> None:
    assert load_config(DATA / name, env=ENV) == PYTHON_KWARGS


@pytest.mark.parametrize("name", ["juggler.example.yaml", "juggler.example.toml"])
def test_the_examples_validate_against_the_shipped_schema(name: str) -> None:
    schema = json.loads(schema_path().read_text())
    text = (DATA / name).read_text()
    data = yaml.safe_load(text) if name.endswith(".yaml") else tomllib.loads(text)
    jsonschema.Draft202012Validator(schema).validate(data)


def test_the_schema_refuses_a_literal_key() -> None:
    schema = json.loads(schema_path().read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"providers": {"openai": {"api_key": "sk-live-123"}}}, schema)


def test_the_schema_names_every_setting() -> None:
    from juggler._config import Settings

    schema = json.loads(schema_path().read_text())
    assert set(schema["properties"]["settings"]["properties"]) == set(Settings.model_fields)


def test_loading_sends_no_request_and_builds_a_juggler(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []
    path = _write(
        tmp_path,
        "j.yaml",
        "providers:\n  groq: {api_key: '${GROQ_API_KEY}'}\n"
        "chains:\n  chat: [groq/llama-3.1-8b-instant]\nsettings: {timeout: 9}\n",
    )
    kwargs = load_config(path, env={"GROQ_API_KEY": "gsk-test"})
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: sent.append(r)))  # type: ignore[func-returns-value]
    j = Juggler(**kwargs, env={}, http_client=client)
    assert j.settings.timeout == 9
    j.close()
    assert sent == []


def test_a_literal_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.yaml", "providers:\n  openai:\n    api_key: sk-live-abcdef\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert f"{path}:3: providers.openai.api_key: keys must be environment references" in message
    assert "sk-live-abcdef" not in message


def test_an_unset_variable_names_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.toml", '[providers.groq]\napi_key = "${GROQ_API_KEY}"\n')
    with pytest.raises(ConfigError, match=r"j.toml:2: providers.groq.api_key: .*GROQ_API_KEY"):
        load_config(path, env={})


def test_a_misspelt_setting_names_the_line_and_suggests_the_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.yaml", "settings:\n  timeout: 3\n  retires: 2\n")
    with pytest.raises(ConfigError, match=r"j.yaml:3: settings.retires: .*did you mean 'retries'"):
        load_config(path, env={})


def test_a_bad_setting_value_names_the_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.toml", "[settings]\ntimeout = -1\n")
    with pytest.raises(ConfigError, match=r"j.toml:2: settings.timeout: .*greater than 0"):
        load_config(path, env={})


def test_a_misspelt_group_member_key_names_its_line(tmp_path: Path) -> None:
    text = "chains:\n  chat:\n    - group:\n        - a/x\n        - {target: b/x, wieght: 2}\n"
    path = _write(tmp_path, "j.yaml", text)
    with pytest.raises(ConfigError, match=r"j.yaml:5: chains.chat\[0\].group\[1\]: .*'weight'"):
        load_config(path, env={})


def test_a_misspelt_section_suggests_the_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.yaml", "provider:\n  openai: {}\n")
    with pytest.raises(ConfigError, match=r"j.yaml:1: provider: .*did you mean 'providers'"):
        load_config(path, env={})


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.toml", "[settings]\ntimeout = = 3\n")
    with pytest.raises(ConfigError, match=r"j.toml:2: invalid TOML"):
        load_config(path, env={})


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "j.json", "{}")
    with pytest.raises(ConfigError, match=r"use \.yaml or \.toml"):
        load_config(path, env={})


def test_a_credential_header_must_be_an_environment_reference(tmp_path: Path) -> None:
    text = (
        "providers:\n  local:\n    base_url: http://x\n    headers: {Authorization: Bearer abc}\n"
    )
    path = _write(tmp_path, "j.yaml", text)
    with pytest.raises(ConfigError, match=r"j.yaml:4: providers.local.headers.Authorization"):
        load_config(path, env={})
