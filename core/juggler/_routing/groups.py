"""Chains with groups: parse and validate ``chat=[...]`` entries that name groups of deployments.

A chain position is a target or a group of equivalent targets::

    chat=[
        {"group": ["openai/gpt-4o-mini", {"target": "azure/gpt-4o-mini", "weight": 2}],
         "strategy": "weighted"},
        "groq/llama-3.1-8b-instant",
    ]

A member is ``"provider/model"``, a :class:`Target`, or ``{"target": "provider/model",
"weight": 2, "rpm": 500, "tpm": 200000, "tier": 1}``; a plain position may use the same dict
form (for its ``rpm``/``tpm``). Several keys of one vendor are several provider entries
(``providers={"openai-eu": {"like": "openai", "api_key": ...}}``), so each deployment has its
own provider name and therefore its own breaker, health and rate-limit book, all keyed by
``(provider, model)``. Everything is checked here, before any request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from juggler._exceptions import InvalidRequestError
from juggler._policy.balance import STRATEGIES
from juggler._types import Target

__all__ = ["Group", "flatten", "parse_chain"]

_MEMBER_KEYS = ("target", "weight", "rpm", "tpm", "tier", "context_window", "space")
_GROUP_KEYS = ("group", "strategy", "name")


@dataclass(frozen=True, slots=True)
class Group:
    """One chain position served by several equivalent targets.

    Attributes:
        members: the targets, in configured order; each carries ``group=name``.
        strategy: how members are ordered per call (see ``juggler._policy.balance``).
        name: the group's name (default: its members joined by ``|``), recorded in
            ``models_used`` through each member's ``group``.
    """

    members: tuple[Target, ...]
    strategy: str = "order"
    name: str = ""


def parse_chain(spec: Sequence[Any] | None, *, where: str = "chain") -> list[Target | Group]:
    """Validate one capability's chain and return its positions.

    Raises ``InvalidRequestError`` naming the position (``where[2].group[1]``) and the key.
    """
    if spec is None:
        return []
    if isinstance(spec, (str, bytes, Mapping)) or not isinstance(spec, Sequence):
        raise InvalidRequestError(f"{where}: expected a list of targets, got {type(spec).__name__}")
    out: list[Target | Group] = []
    for i, item in enumerate(spec):
        here = f"{where}[{i}]"
        if isinstance(item, Mapping) and "group" in item:
            out.append(_group(item, here))
        else:
            out.append(_member(item, here))
    if not out:
        raise InvalidRequestError(f"{where}=[] names no targets")
    return out


def flatten(chain: Sequence[Target | Group]) -> list[Target]:
    """Every target of a chain in configured order (groups expanded in place)."""
    targets: list[Target] = []
    for position in chain:
        targets.extend(position.members if isinstance(position, Group) else (position,))
    return targets


def _group(item: Mapping[str, Any], where: str) -> Group:
    _refuse_unknown(item, _GROUP_KEYS, where)
    raw = item["group"]
    if isinstance(raw, (str, Mapping)) or not isinstance(raw, Sequence) or len(raw) < 1:
        raise InvalidRequestError(f"{where}.group: expected a non-empty list of targets")
    strategy = item.get("strategy", "order")
    if strategy not in STRATEGIES:
        raise InvalidRequestError(
            f"{where}.strategy: unknown strategy {strategy!r}{_did_you_mean(strategy, STRATEGIES)}"
            f"; known: {', '.join(STRATEGIES)}"
        )
    members = []
    for j, member in enumerate(raw):
        if isinstance(member, Mapping) and "group" in member:
            raise InvalidRequestError(f"{where}.group[{j}]: groups cannot be nested")
        members.append(_member(member, f"{where}.group[{j}]"))
    seen = set()
    for m in members:
        if m.key in seen:
            raise InvalidRequestError(
                f"{where}.group: {m} appears twice; a second key of the same vendor is a "
                "second provider entry, e.g. providers={'openai-2': {'like': 'openai', ...}}"
            )
        seen.add(m.key)
    name = str(item.get("name") or "|".join(str(m) for m in members))
    return Group(
        members=tuple(m.model_copy(update={"group": name}) for m in members),
        strategy=str(strategy),
        name=name,
    )


def _member(item: Any, where: str) -> Target:
    if isinstance(item, Target):
        return item
    if isinstance(item, str):
        try:
            return Target.parse(item)
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{where}: {exc}") from exc
    if isinstance(item, Mapping):
        _refuse_unknown(item, _MEMBER_KEYS, where)
        if "target" not in item:
            raise InvalidRequestError(f"{where}: a target entry needs 'target': 'provider/model'")
        try:
            base = Target.parse(item["target"])
            extra = {k: v for k, v in item.items() if k != "target"}
            return Target.model_validate({**base.model_dump(exclude_none=True), **extra})
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"{where}.target: {exc}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise InvalidRequestError(f"{where}.{key}: {first['msg']}") from None
    raise InvalidRequestError(
        f"{where}: expected 'provider/model', a Target or a mapping, got {type(item).__name__}"
    )


def _refuse_unknown(item: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    for key in item:
        if key not in known:
            raise InvalidRequestError(
                f"{where}: unknown key {key!r}{_did_you_mean(str(key), known)}; "
                f"known: {', '.join(known)}"
            )


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(word), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
