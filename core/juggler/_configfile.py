"""A Juggler from one file: YAML or TOML into the keyword arguments of ``Juggler(...)``.

::

    providers:
      openai:    {api_key: "${OPENAI_API_KEY}"}
      openai-eu: {like: openai, api_key: "${OPENAI_EU_API_KEY}"}
      openrouter:
        api_key: "${OPENROUTER_API_KEY}"
        headers: {HTTP-Referer: "https://example.org"}
    chains:
      chat:
        - group: [openai/gpt-4o-mini, {target: openai-eu/gpt-4o-mini, weight: 2, rpm: 500}]
          strategy: weighted
        - groq/llama-3.1-8b-instant
    settings: {timeout: 30, retries: 1}

Keys are only ever ``${ENV_VAR}`` references, resolved from the environment at load time; a
literal key is refused (config files end up in git). Every error names the file, the line
where the parser knows it, and the key, with a did-you-mean for misspelt names. Loading reads
the file and the environment only: it sends no request. YAML needs ``pyyaml`` (extra ``yaml``);
TOML uses the standard library's ``tomllib``. The shipped JSON Schema is
``juggler/config.schema.json``.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from juggler._config import ProviderConfig, Settings
from juggler._exceptions import InvalidRequestError
from juggler._routing.groups import parse_chain
from juggler._types import Capability

__all__ = ["ConfigError", "load_config", "schema_path"]

TOP_LEVEL = (
    "providers",
    "chains",
    "settings",
    "allow_cross_space",
    "tier_neighbours",
    "budgets",
    "limiter",
)
_LIMITER_KEYS = ("storage", "strategy")
# Headers that carry credentials: like api_key, only as ${ENV_VAR} references.
_SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "x-goog-api-key", "proxy-authorization", "cookie"}
)
_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_ANY_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PATH_IN_MESSAGE = re.compile(r"^([A-Za-z0-9_.\[\]-]+): ")

Path_ = tuple[str | int, ...]


class ConfigError(InvalidRequestError):
    """A configuration file is invalid; the message names the file, line and key."""


def schema_path() -> Path:
    """Where the JSON Schema of the configuration file is installed."""
    return Path(__file__).with_name("config.schema.json")


def load_config(
    path: str | os.PathLike[str], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Read a YAML (``.yaml``/``.yml``) or TOML (``.toml``) file into ``Juggler`` kwargs.

    Args:
        path: the file.
        env: where ``${VAR}`` references are looked up (default: ``os.environ``).

    Returns:
        ``{"chat": [...], "providers": {name: ProviderConfig}, "timeout": 30, ...}``:
        chains as written (strings, member and group mappings, for ``parse_chain``), provider
        entries as ``ProviderConfig`` (keys as ``SecretStr``), settings flattened.

    Raises:
        ConfigError: unreadable file, syntax error, unknown key, literal key, unset variable.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration file: {exc.strerror}") from exc
    suffix = file.suffix.lower()
    if suffix in (".yaml", ".yml"):
        data, lines = _load_yaml(file, text)
    elif suffix == ".toml":
        data, lines = _load_toml(file, text)
    else:
        raise ConfigError(f"{file}: unknown configuration format {suffix!r}; use .yaml or .toml")
    return _Reader(file, lines, os.environ if env is None else env).read(data)


# ----- parsing, with a line for every key where the parser knows it -----


def _load_yaml(file: Path, text: str) -> tuple[Any, dict[Path_, int]]:
    try:
        import yaml
    except ImportError as exc:
        raise ConfigError(
            f"{file}: YAML configuration needs pyyaml: pip install 'juggler[yaml]' "
            "(or write the file as TOML)"
        ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file}{line}: invalid YAML: {exc}") from None
    lines: dict[Path_, int] = {}

    def walk(n: Any, where: Path_) -> None:
        lines[where] = n.start_mark.line + 1
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                lines[(*where, key.value)] = key.start_mark.line + 1
                walk(value, (*where, key.value))
                lines[(*where, key.value)] = key.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*where, i))

    if node is not None:
        walk(node, ())
    return data, lines


def _load_toml(file: Path, text: str) -> tuple[Any, dict[Path_, int]]:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends with "(at line N, column M)".
        found = re.search(r"line (\d+)", str(exc))
        line = f":{found.group(1)}" if found else ""
        raise ConfigError(f"{file}{line}: invalid TOML: {exc}") from None
    # tomllib keeps no positions: find each key's first definition by name, which is exact for
    # the usual one-key-per-line layout and a good hint otherwise.
    lines: dict[Path_, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            section = tuple(p.strip().strip('"') for p in line.strip("[]").split("."))
            lines.setdefault(section, number)
        elif "=" in line and not line.startswith("#"):
            key = line.split("=", 1)[0].strip().strip('"')
            lines.setdefault((key,), number)
    return data, lines


# ----- validation -----


class _Reader:
    def __init__(self, file: Path, lines: dict[Path_, int], env: Mapping[str, str]) -> None:
        self.file = file
        self.lines = lines
        self.env = env

    def fail(self, where: Path_, message: str) -> ConfigError:
        line = self._line(where)
        dotted = _dotted(where)
        at = f"{self.file}:{line}" if line else f"{self.file}"
        return ConfigError(f"{at}: {dotted}: {message}" if dotted else f"{at}: {message}")

    def _line(self, where: Path_) -> int | None:
        for cut in range(len(where), -1, -1):
            prefix = where[:cut]
            if prefix in self.lines:
                return self.lines[prefix]
            if prefix and (prefix[-1],) in self.lines:  # TOML: found by key name only
                return self.lines[(prefix[-1],)]
        return None

    def read(self, data: Any) -> dict[str, Any]:
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise self.fail((), "the top level must be a mapping of sections")
        self.known(data, TOP_LEVEL, ())
        kwargs: dict[str, Any] = {}
        if "providers" in data:
            kwargs["providers"] = self.providers(data["providers"])
        for cap, chain in self.mapping(data.get("chains", {}), ("chains",)).items():
            kwargs[cap] = self.chain(cap, chain)
        kwargs.update(self.settings(data.get("settings", {})))
        for flag in ("allow_cross_space", "tier_neighbours"):
            if flag in data:
                if not isinstance(data[flag], bool):
                    raise self.fail((flag,), f"expected true or false, got {data[flag]!r}")
                kwargs[flag] = data[flag]
        if "budgets" in data:  # validated by the budgets feature; passed through as written
            kwargs["budgets"] = dict(self.mapping(data["budgets"], ("budgets",)))
        if "limiter" in data:
            limiter = self.mapping(data["limiter"], ("limiter",))
            self.known(limiter, _LIMITER_KEYS, ("limiter",))
            kwargs["limiter"] = dict(limiter)
        return kwargs

    def mapping(self, value: Any, where: Path_) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def known(self, value: Mapping[str, Any], known: Sequence[str], where: Path_) -> None:
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    (*where, key), f"unknown key {key!r}{hint}; known: {', '.join(known)}"
                )

    def providers(self, value: Any) -> dict[str, ProviderConfig]:
        out = {}
        for name, entry in self.mapping(value, ("providers",)).items():
            where: Path_ = ("providers", name)
            entry = dict(self.mapping(entry or {}, where))
            self.known(entry, list(ProviderConfig.model_fields), where)
            if "api_key" in entry:
                entry["api_key"] = SecretStr(self.key(entry["api_key"], (*where, "api_key")))
            if "headers" in entry:
                headers = self.mapping(entry["headers"], (*where, "headers"))
                entry["headers"] = {
                    str(k): (
                        self.key(v, (*where, "headers", k))
                        if str(k).lower() in _SECRET_HEADERS
                        else self.expand(str(v), (*where, "headers", k))
                    )
                    for k, v in headers.items()
                }
            for key in ("base_url",):
                if isinstance(entry.get(key), str):
                    entry[key] = self.expand(entry[key], (*where, key))
            try:
                out[str(name)] = ProviderConfig.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise self.fail((*where, *first["loc"]), first["msg"]) from None
        return out

    def key(self, value: Any, where: Path_) -> str:
        match = _ENV_REF.match(value) if isinstance(value, str) else None
        if match is None:
            # Never echo the value: it may be a real key pasted by mistake.
            raise self.fail(
                where,
                "keys must be environment references like '${OPENAI_API_KEY}', never "
                "literal keys (configuration files end up in version control)",
            )
        return self.variable(match.group(1), where)

    def expand(self, value: str, where: Path_) -> str:
        return _ANY_REF.sub(lambda m: self.variable(m.group(1), where), value)

    def variable(self, name: str, where: Path_) -> str:
        found = self.env.get(name)
        if found is None:
            raise self.fail(where, f"environment variable {name} is not set")
        return found

    def chain(self, capability: str, value: Any) -> list[Any]:
        where: Path_ = ("chains", capability)
        if capability not in {c.value for c in Capability}:
            self.known({capability: None}, [c.value for c in Capability], ("chains",))
        try:
            parse_chain(value, where=_dotted(where))
        except InvalidRequestError as exc:
            message = str(exc)
            found = _PATH_IN_MESSAGE.match(message)
            at = _undotted(found.group(1)) if found else where
            detail = message[found.end() :] if found else message
            raise self.fail(at, detail) from None
        return list(value)

    def settings(self, value: Any) -> dict[str, Any]:
        given = dict(self.mapping(value, ("settings",)))
        self.known(given, list(Settings.model_fields), ("settings",))
        try:
            Settings(**given)
        except InvalidRequestError as exc:  # "invalid settings: timeout: Input should be ..."
            name, _, detail = str(exc).removeprefix("invalid settings: ").partition(": ")
            raise self.fail(("settings", name), detail) from None
        return given


def _dotted(where: Path_) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _undotted(text: str) -> Path_:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)
