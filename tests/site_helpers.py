"""Helpers shared by the status-site tests: a copy of the sample repository, and markers
planted in every internal field of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-27T16:00:00Z"
MARK = "zqxleak"  # every planted marker starts with it (checked case-insensitively)

# incident keys whose string values are internal free text (anywhere in the front-matter)
_FREE_TEXT = {
    "reporter", "user_impact", "summary", "revenue", "incident_commander", "technical_lead",
    "communications_lead", "on_call", "to", "by", "reason", "description", "evidence", "test",
    "ref", "rule", "policy", "facilitator", "why", "because", "compliance", "title", "owner",
    "issue",
}  # fmt: skip
_FREE_LISTS = {
    "services", "runbooks", "attendees", "approvers", "people", "process", "technology",
    "environment",
}  # fmt: skip


def split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def join(path: Path, data: dict[str, Any], body: str) -> None:
    front = yaml.dump(data, Dumper=_NoAliases, sort_keys=False, allow_unicode=True)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")


class Planter:
    def __init__(self) -> None:
        self.count = 0

    def marker(self, *, slug: bool = False) -> str:
        self.count += 1
        return f"{MARK}-{self.count:04d}" if slug else f"{MARK.upper()}{self.count:04d}"

    def walk(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            if key in _FREE_LISTS:
                return [self.marker() for _ in value] or [self.marker()]
            return [self.walk(v, key) for v in value]
        if isinstance(value, str) and key in _FREE_TEXT:
            return self.marker()
        return value

    def incident(self, path: Path) -> None:
        """Mark every internal value; public events keep their text, private ones lose it."""
        data, _ = split(path)
        private = data.get("public") is False
        timeline = data.pop("timeline")
        title = data.pop("title")
        data = self.walk(data)
        data["title"] = self.marker() if private else title
        data["affected_users"] = 987_650_000 + self.count
        events = []
        for event in timeline:
            keep = {k: event[k] for k in ("at", "kind", "public", "status") if k in event}
            rest = self.walk({k: v for k, v in event.items() if k not in keep})
            if "text" in event:
                rest["text"] = (
                    event["text"] if event.get("public") and not private else (self.marker())
                )
            events.append(keep | rest)
        if private:  # a private incident's public-looking update must not escape either
            events.append(
                {"at": timeline[-1]["at"], "kind": "update", "public": True,
                 "status": "investigating", "text": self.marker()}
            )  # fmt: skip
        data["timeline"] = events
        join(path, data, f"# {self.marker()}\n\n{self.marker()}\n")

    def pir(self, path: Path) -> None:
        data, _ = split(path)
        approved_public = data.get("status") == "approved" and data.get("public") is True
        summary = data.pop("public_summary", None)
        data = self.walk(data)
        data["root_cause"] = self.marker(slug=True)
        if approved_public:
            data["public_summary"] = summary
        else:  # not publishable: a summary written anyway must stay internal
            data["public"] = data.get("status") != "approved"  # a draft marked public, too
            data["public_summary"] = self.marker()
        join(path, data, f"# {self.marker()}\n\n{self.marker()}\n")

    def maintenance(self, path: Path) -> None:
        data, _ = split(path)
        data["by"] = self.marker()
        join(path, data, f"# {self.marker()}\n\n{self.marker()}\n")


def plant_markers(root: Path) -> int:
    """Plant markers in every internal field of every sample document; returns how many."""
    planter = Planter()
    for path in sorted(root.glob("incidents/*/*/*/incident.md")):
        planter.incident(path)
    for path in sorted(root.glob("incidents/*/*/*/pir.md")):
        planter.pir(path)
    for path in sorted(root.glob("maintenances/*.md")):
        planter.maintenance(path)
    return planter.count


def site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
