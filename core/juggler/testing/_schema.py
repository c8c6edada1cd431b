"""Deterministic values that satisfy a JSON schema, filled from hints found in the prompt.

Used for tool-call arguments and structured output. Integers and numbers take the numbers of
the prompt in order ("magic_function(3)" gives 3, "1 + 2" gives 1 then 2); strings take its
quoted text in order ('你好啊集团'); a few well-known field names get canned values (the
LangChain standard suite's ``setup``/``punchline``/``answer_style``/``location``); everything
else gets a plain value that still honours enums, bounds, lengths and formats. Required
fields are always present. Gemini's upper-case types (``OBJECT``, ``STRING``) are understood.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CANNED", "Hints", "keys_named", "schema_in_text", "synthesize"]

CANNED: dict[str, str] = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse!",
    "answer_style": "pirate",
    "location": "San Francisco, CA",
    "city": "Paris",
    "country": "France",
    "unit": "celsius",
    "language": "en",
}
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "hostname": "example.com",
}
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(
    r"(?:(?<=^)|(?<=[\s(\[{:=,]))'([^'\n]+?)'(?=$|[\s.,;:!?)\]}])"
    r"|\"([^\"\n]+?)\"|“([^”\n]+?)”|「([^」\n]+?)」"
)
_MAX_DEPTH = 6
_IDENT = re.compile(r"^[A-Za-z_][\w-]{0,40}$")
_BACKTICKED = re.compile(r"`([A-Za-z_][\w-]{0,40})`")
# "with keys setup and punchline", "the fields: name, age", "properties a, b & c"
_KEY_LIST = re.compile(
    r"\b(?:keys|fields|properties|attributes)\b\s*(?::|named|called)?\s*"
    r"([A-Za-z_]\w*(?:\s*(?:,\s*(?:and\s+)?|\band\b|&)\s*[A-Za-z_]\w*)+)",
    re.IGNORECASE,
)


@dataclass(slots=True)
class Hints:
    """Values found in the prompt, consumed in order while a value is being built."""

    numbers: list[float] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    text: str = ""
    _n: int = 0
    _q: int = 0

    @classmethod
    def from_prompt(cls, prompt: str) -> Hints:
        """Numbers and quoted strings of ``prompt``, in the order they appear."""
        numbers = [float(m) for m in _NUMBER.findall(prompt)]
        quoted = [next(g for g in m if g) for m in _QUOTED.findall(prompt)]
        return cls(numbers=numbers, quoted=quoted, text=" ".join(prompt.split()))

    def next_number(self) -> float | None:
        """The next unused number of the prompt, or None."""
        if self._n < len(self.numbers):
            self._n += 1
            return self.numbers[self._n - 1]
        return None

    def next_quoted(self) -> str | None:
        """The next unused quoted string of the prompt, or None."""
        if self._q < len(self.quoted):
            self._q += 1
            return self.quoted[self._q - 1]
        return None


def synthesize(schema: Any, hints: Hints | None = None, name: str = "value") -> Any:
    """A value valid against ``schema`` (a JSON-schema dict), filled from ``hints``."""
    root = schema if isinstance(schema, Mapping) else {}
    return _value(root, hints or Hints(), name, root, 0)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in schema and seen < 20:
        ref = str(schema["$ref"])
        node: Any = root
        if ref.startswith("#"):
            for part in ref.lstrip("#").strip("/").split("/"):
                if part:
                    node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
        merged = dict(node) if isinstance(node, Mapping) else {}
        merged.update({k: v for k, v in schema.items() if k != "$ref"})
        schema = merged
        seen += 1
    return schema


def _type_of(schema: Mapping[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if str(x).lower() != "null"), t[0] if t else None)
    if t is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        return None
    return str(t).lower()


def _value(schema: Any, hints: Hints, name: str, root: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(schema, Mapping):
        return _string({}, hints, name)
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options:
            chosen = next((o for o in options if _type_of(_resolve(o, root)) != "null"), options[0])
            base = {k: v for k, v in schema.items() if k != key}
            return _value({**base, **_resolve(chosen, root)}, hints, name, root, depth)
    if schema.get("allOf"):
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        props: dict[str, Any] = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        for part in schema["allOf"]:
            part = _resolve(part, root)
            props.update(part.get("properties") or {})
            required += list(part.get("required") or [])
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        merged["properties"], merged["required"] = props, required
        return _value(merged, hints, name, root, depth)
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, hints, root, depth)
    if kind == "array":
        return _array(schema, hints, name, root, depth)
    if kind == "integer":
        return _integer(schema, hints)
    if kind == "number":
        return _number(schema, hints)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, hints, name)


def _object(
    schema: Mapping[str, Any], hints: Hints, root: Mapping[str, Any], depth: int
) -> dict[str, Any]:
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out: dict[str, Any] = {}
    for key, sub in props.items():
        # Deep inside (possibly recursive) schemas only required fields are filled.
        if depth >= _MAX_DEPTH // 2 and key not in required:
            continue
        out[key] = _value(sub, hints, key, root, depth + 1)
    for key in required - set(out):
        out[key] = _string({}, hints, key)
    return out


def _array(
    schema: Mapping[str, Any], hints: Hints, name: str, root: Mapping[str, Any], depth: int
) -> list[Any]:
    items = schema.get("items")
    if isinstance(items, list):  # tuple form
        return [_value(s, hints, name, root, depth + 1) for s in items]
    if depth >= _MAX_DEPTH:
        return []
    count = max(1, int(schema.get("minItems") or 0))
    if schema.get("maxItems") is not None:
        count = min(count, int(schema["maxItems"]))
    return [_value(items or {}, hints, name, root, depth + 1) for _ in range(count)]


def _bounds(schema: Mapping[str, Any], step: float) -> tuple[float, float]:
    lo, hi = -math.inf, math.inf
    if schema.get("minimum") is not None:
        lo = float(schema["minimum"])
        if schema.get("exclusiveMinimum") is True:  # draft 4
            lo += step
    if isinstance(schema.get("exclusiveMinimum"), int | float) and not isinstance(
        schema.get("exclusiveMinimum"), bool
    ):
        lo = max(lo, float(schema["exclusiveMinimum"]) + step)
    if schema.get("maximum") is not None:
        hi = float(schema["maximum"])
        if schema.get("exclusiveMaximum") is True:
            hi -= step
    if isinstance(schema.get("exclusiveMaximum"), int | float) and not isinstance(
        schema.get("exclusiveMaximum"), bool
    ):
        hi = min(hi, float(schema["exclusiveMaximum"]) - step)
    return lo, hi


def _integer(schema: Mapping[str, Any], hints: Hints) -> int:
    found = hints.next_number()
    value = round(found) if found is not None else 1
    lo, hi = _bounds(schema, 1.0)
    if value < lo:
        value = math.ceil(lo)
    if value > hi:
        value = math.floor(hi)
    step = schema.get("multipleOf")
    if isinstance(step, int) and not isinstance(step, bool) and step > 0 and value % step:
        up = value + step - value % step
        value = up if up <= hi else value - value % step
    return int(value)


def _number(schema: Mapping[str, Any], hints: Hints) -> float:
    found = hints.next_number()
    value = found if found is not None else 1.0
    lo, hi = _bounds(schema, 1e-6)
    return float(min(max(value, lo), hi))


def _string(schema: Mapping[str, Any], hints: Hints, name: str) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    key = name.lower()
    if key in ("setup", "punchline", "answer_style"):
        value = CANNED[key]
    else:
        value = hints.next_quoted() or CANNED.get(key) or _default_text(hints, name)
    min_len = int(schema.get("minLength") or 0)
    if len(value) < min_len:
        value = value + "x" * (min_len - len(value))
    if schema.get("maxLength") is not None:
        value = value[: max(int(schema["maxLength"]), min_len)]
    return value


def _default_text(hints: Hints, name: str) -> str:
    words = hints.text.split()
    if words:
        return " ".join(words[:8])
    return f"sample {name}"


def schema_in_text(text: str) -> dict[str, Any] | None:
    """The last JSON schema written out in ``text`` (an object with ``properties``), e.g. the
    format instructions output parsers add to a prompt; None when there is none."""
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict) and isinstance(value.get("properties"), dict):
            found = value
        start = text.find("{", end)
    return found


def keys_named(text: str) -> list[str]:
    """Object keys a prompt asks for: quoted or backticked names ('setup' and 'punchline'),
    or a list after "keys"/"fields"/"properties" (with keys setup and punchline)."""
    keys = [q for q in Hints.from_prompt(text).quoted if _IDENT.match(q)]
    keys += _BACKTICKED.findall(text)
    if not keys:
        for match in _KEY_LIST.finditer(text):
            keys += [
                k
                for k in re.split(r"\s*(?:,|\band\b|&)\s*", match.group(1), flags=re.IGNORECASE)
                if k and k.lower() != "and"
            ]
    return list(dict.fromkeys(keys))
