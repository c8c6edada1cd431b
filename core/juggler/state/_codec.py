"""Answers as JSON for the shared cache, never pickle.

Anyone who can write to the Redis could turn a pickled value into code run by every replica;
JSON cannot. Dataclasses and pydantic models are tagged with their class, and only classes
defined inside ``juggler`` are rebuilt, so a poisoned entry yields at worst a wrong answer type
(rejected as a miss), never code. Bytes (speech audio) travel as base64.
"""

from __future__ import annotations

import base64
import dataclasses
import importlib
import json
from typing import Any

__all__ = ["dumps", "loads"]


def _tag(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _encode(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, bytes | bytearray):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$dc": _tag(type(value)), "f": fields}
    if hasattr(value, "model_dump") and hasattr(type(value), "model_validate"):
        return {"$pm": _tag(type(value)), "d": value.model_dump(mode="json")}
    if isinstance(value, dict):
        return {"$d": {str(k): _encode(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    raise TypeError(f"cannot share a {type(value).__name__} through the cache")


def _class(tag: str) -> type:
    module, _, name = tag.partition(":")
    if not (module == "juggler" or module.startswith("juggler.")) or "." in name:
        raise ValueError(f"refusing to rebuild {tag!r}: not a juggler class")
    cls = getattr(importlib.import_module(module), name)
    if not isinstance(cls, type):
        raise ValueError(f"{tag!r} is not a class")
    return cls


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$b" in value:
        return base64.b64decode(value["$b"])
    if "$d" in value:
        return {k: _decode(v) for k, v in value["$d"].items()}
    if "$dc" in value:
        cls = _class(value["$dc"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{value['$dc']!r} is not a dataclass")
        return cls(**{k: _decode(v) for k, v in value["f"].items()})
    if "$pm" in value:
        cls = _class(value["$pm"])
        return cls.model_validate(value["d"])  # type: ignore[attr-defined]
    raise ValueError("unknown cache entry shape")


def dumps(value: Any) -> str:
    """JSON text of an answer (raises TypeError for a value that cannot be shared)."""
    return json.dumps(_encode(value), separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    """The answer back (raises ValueError/TypeError/KeyError on a malformed entry)."""
    return _decode(json.loads(text))
