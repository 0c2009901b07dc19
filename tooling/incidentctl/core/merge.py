"""Three-way merge of two versions of a document, as data: the merge driver's rules.

Git merges lines, so two branches that each append a timeline event conflict: the normal
case when two responders record what they do. Here the front-matter is merged field by field:
lists of records (the timeline, escalations, a PIR's actions) as the union of both sides, each
item once; a field that only one side changed takes that side's value; fields that only move
forward (status, tier) take the later value when both moved forward; anything else both sides
changed differently is a conflict for a person. The caller (store.merge) reads the files and
writes the merged fields into OURS' text as minimal edits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from incidentctl.core.lifecycle import ORDER, forbidden_times, required_times, tier_reached
from incidentctl.core.model import Incident, Pir, PirStatus, Status


class MergeError(Exception):
    """The merged data is not a valid document: merge the text instead."""


@dataclass(frozen=True)
class Side:
    """One version: its front-matter as written (what is copied over) and as validated."""

    data: dict[str, Any]
    model: BaseModel
    body: str


@dataclass(frozen=True)
class ListRule:
    """How a list field merges: items in time order (`at` of the validated item), else in
    each side's order; items with the same `ident` (a PIR action's id) are one record, so
    another side's edit replaces it where it stands."""

    at: Callable[[Any], datetime] | None = None
    ident: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Rules:
    """What a kind of document merges how; every other field is one value."""

    model: type[BaseModel]
    lists: Mapping[str, ListRule]
    forward: Mapping[str, Callable[[Any], int]]  # field -> rank; both moved forward: the later
    consistent: Callable[[Any], list[str]]  # fields of a merged model that disagree


@dataclass
class Change:
    """One top-level key of OURS to rewrite: its merged value, and for a list that only gained
    items, those items with the index each takes (ascending), so they can be inserted."""

    key: str
    value: Any
    inserts: list[tuple[int, Any]] | None = None


@dataclass
class Merged:
    changes: list[Change] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # keys both sides changed differently
    body: str | None = None  # None: both sides changed the body (the caller merges its lines)
    model: BaseModel | None = None  # the merged document, when nothing conflicts


@dataclass(frozen=True)
class _Item:
    key: str  # the content: equal keys are the same item
    raw: Any  # as written in the file
    at: datetime | None
    ident: str | None
    ours: bool = False


def _content(value: Any) -> str:
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, sort_keys=True, default=str)


def _items(side: Side | None, name: str, rule: ListRule) -> list[_Item]:
    if side is None:
        return []
    models = getattr(side.model, name)
    raws = side.data.get(name) or []
    if len(raws) != len(models):  # pragma: no cover - the model is validated from the data
        raws = [_plain(m) for m in models]
    return [
        _Item(
            _content(model),
            raw,
            rule.at(model) if rule.at else None,
            rule.ident(model) if rule.ident else None,
        )
        for model, raw in zip(models, raws, strict=True)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    return value


def _minus(items: list[_Item], other: list[_Item]) -> list[_Item]:
    """The items of `items` that `other` lacks, counted as a multiset, in `items`' order."""
    left = Counter(i.key for i in other)
    out = []
    for item in items:
        if left[item.key] > 0:
            left[item.key] -= 1
        else:
            out.append(item)
    return out


def _merge_list(
    base: list[_Item], ours: list[_Item], theirs: list[_Item]
) -> tuple[list[_Item], bool] | None:
    """The union of both sides: OURS in its order, THEIRS' new items in time order (after
    every item at the same time) or at the end; what one side removed is removed (an edit is
    a removal and an addition). None when both removed items, differently. The flag says the
    result is OURS with items inserted only."""
    removed_ours, removed_theirs = _minus(base, ours), _minus(base, theirs)
    if (
        removed_ours
        and removed_theirs
        and Counter(i.key for i in removed_ours) != Counter(i.key for i in removed_theirs)
    ):
        return None
    added_ours = _minus(ours, base)
    extra = _minus(_minus(theirs, base), added_ours)
    merged = [_Item(i.key, i.raw, i.at, i.ident, ours=True) for i in ours]
    only_inserts = True
    if removed_theirs and not removed_ours:
        only_inserts = False
        drop = Counter(i.key for i in removed_theirs)
        edits = {i.ident: i for i in extra if i.ident is not None}
        kept: list[_Item] = []
        for item in merged:
            if drop[item.key] == 0:
                kept.append(item)
                continue
            drop[item.key] -= 1
            edited = edits.pop(item.ident, None) if item.ident is not None else None
            if edited is not None:
                kept.append(edited)  # their edit of the record, where it stands
        placed = {id(i) for i in kept}
        merged, extra = kept, [i for i in extra if id(i) not in placed]
    for item in extra:
        position = len(merged)
        if item.at is not None:
            while position > 0 and (merged[position - 1].at or item.at) > item.at:
                position -= 1
        merged.insert(position, item)
    idents = [i.ident for i in merged if i.ident is not None]
    if len(idents) != len(set(idents)):
        return None  # two different records under one identity (two actions, one id)
    return merged, only_inserts


def merge(rules: Rules, base: Side | None, ours: Side, theirs: Side) -> Merged:
    """Merge THEIRS into OURS over their common BASE (None: both added the file)."""
    out = Merged()
    merged_data = dict(ours.data)
    for name in rules.model.model_fields:
        was = getattr(base.model, name) if base is not None else None
        mine, yours = getattr(ours.model, name), getattr(theirs.model, name)
        if name in rules.lists:
            rule = rules.lists[name]
            if mine == yours:
                continue
            result = _merge_list(
                _items(base, name, rule), _items(ours, name, rule), _items(theirs, name, rule)
            )
            if result is None:
                out.conflicts.append(name)
                continue
            items, only_inserts = result
            value = [i.raw for i in items]
            inserts = [(n, i.raw) for n, i in enumerate(items) if not i.ours]
            if not inserts and only_inserts:
                continue
            out.changes.append(Change(name, value, inserts if only_inserts else None))
            merged_data[name] = value
            continue
        if mine == yours or yours == was:
            continue
        if mine == was:
            value = theirs.data.get(name, _plain(yours))
        elif name in rules.forward and was is not None:
            rank = rules.forward[name]
            if not (rank(mine) > rank(was) and rank(yours) > rank(was)):
                out.conflicts.append(name)
                continue
            if rank(mine) >= rank(yours):
                continue
            value = theirs.data.get(name, _plain(yours))
        else:
            out.conflicts.append(name)
            continue
        out.changes.append(Change(name, value))
        merged_data[name] = value
    ours_body, theirs_body = ours.body, theirs.body
    base_body = base.body if base is not None else ""
    if ours_body == theirs_body or theirs_body == base_body:
        out.body = ours_body
    elif ours_body == base_body:
        out.body = theirs_body
    if out.conflicts:
        return out
    try:
        out.model = rules.model.model_validate(merged_data)
    except ValidationError as exc:
        raise MergeError(str(exc)) from None
    disagree = rules.consistent(out.model)
    if disagree:
        out.conflicts.extend(k for k in disagree if k not in out.conflicts)
        out.model = None
    return out


def _incident_consistency(incident: Incident) -> list[str]:
    """Status and tier as the merged lifecycle times and escalations have them."""
    out = []
    if any(getattr(incident, n) is None for n in required_times(incident.status)) or any(
        getattr(incident, n) is not None for n in forbidden_times(incident.status)
    ):
        out.append("status")
    if incident.tier != tier_reached(incident):
        out.append("tier")
    return out


def _by_time(item: Any) -> datetime:
    at: datetime = item.at
    return at


def _action_id(item: Any) -> str:
    ident: str = item.id
    return ident


def _status_rank(status: Status) -> int:
    return ORDER.index(status)


def _tier_rank(tier: int) -> int:
    return tier


_PIR_ORDER = list(PirStatus)


def _pir_rank(status: PirStatus) -> int:
    return _PIR_ORDER.index(status)


def _pir_consistency(pir: Pir) -> list[str]:
    return []


INCIDENT = Rules(
    model=Incident,
    lists={
        "timeline": ListRule(at=_by_time),
        "escalations": ListRule(at=_by_time),
        "services": ListRule(),
        "components": ListRule(),
        "runbooks": ListRule(),
    },
    forward={"status": _status_rank, "tier": _tier_rank},
    consistent=_incident_consistency,
)

PIR = Rules(
    model=Pir,
    lists={
        "actions": ListRule(ident=_action_id),
        "attendees": ListRule(),
        "approvers": ListRule(),
    },
    forward={"status": _pir_rank},
    consistent=_pir_consistency,
)
