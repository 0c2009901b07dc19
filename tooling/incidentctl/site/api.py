"""The Statuspage-compatible JSON API (api/v2/*.json), built as data and serialized by `json`.

Field names and vocabularies follow Atlassian Statuspage's public API, so its clients and
widgets read these files unchanged: `page`, `status.indicator` (none, minor, major, critical,
maintenance) and `status.description`, `components` (operational, degraded_performance,
partial_outage, major_outage, under_maintenance; groups with `group: true` and their
children's ids), `incidents` with `incident_updates` and `impact`, `scheduled_maintenances`
with `scheduled_for`/`scheduled_until`. Never a text template: a quote, a backslash or an emoji
in a title is escaped by the serializer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from incidentctl.site.page import Page
from incidentctl.site.status import (
    RANK,
    ComponentView,
    PublicIncident,
    PublicMaintenance,
    PublicUpdate,
)

RECENT = 50  # Statuspage lists the 50 most recent incidents and maintenances


def stamp(value: datetime | None) -> str | None:
    """Statuspage's timestamp format: UTC with milliseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def group_id(name: str) -> str:
    return "group-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]


def page_dict(page: Page) -> dict[str, Any]:
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": stamp(page.now),
    }


class Api:
    """Builds every api/v2 document from the public projections."""

    def __init__(
        self,
        page: Page,
        views: Sequence[ComponentView],
        incidents: Sequence[PublicIncident],
        maintenances: Sequence[PublicMaintenance],
        status: tuple[str, str],
    ) -> None:
        self.page = page
        self.views = views
        self.by_id = {v.id: v for v in views}
        self.incidents = incidents  # newest first
        self.maintenances = maintenances  # by scheduled_for, newest first
        self.indicator, self.description = status  # the top-level status (page_status)
        self._components = self._component_list()

    def _component(self, view: ComponentView, group: str | None) -> dict[str, Any]:
        when = stamp(view.updated_at or self.page.now)
        return {
            "id": view.id,
            "name": view.name,
            "status": view.status,
            "created_at": when,
            "updated_at": when,
            "position": view.position,
            "description": view.description,
            "showcase": True,
            "start_date": None,
            "group_id": group,
            "page_id": self.page.id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _component_list(self) -> list[dict[str, Any]]:
        """Top-level components and groups numbered 1..N in page order, and each group's
        members numbered 1..M within it (Statuspage's positions)."""
        out: list[dict[str, Any]] = []
        groups: dict[str, list[ComponentView]] = {}
        for view in self.views:
            if view.group:
                groups.setdefault(view.group, []).append(view)
        position = 0
        done: set[str] = set()
        for view in self.views:
            if not view.group:
                position += 1
                out.append(self._component(view, None) | {"position": position})
                continue
            if view.group in done:
                continue
            done.add(view.group)
            members = groups[view.group]
            gid = group_id(view.group)
            position += 1
            worst = max((m.status for m in members), key=lambda s: RANK[s])
            latest = max((m.updated_at for m in members if m.updated_at), default=None)
            out.append(
                {
                    "id": gid,
                    "name": view.group,
                    "status": worst,
                    "created_at": stamp(latest or self.page.now),
                    "updated_at": stamp(latest or self.page.now),
                    "position": position,
                    "description": None,
                    "showcase": False,
                    "start_date": None,
                    "group_id": None,
                    "page_id": self.page.id,
                    "group": True,
                    "only_show_if_degraded": False,
                    "components": [m.id for m in members],
                }
            )
            for inside, member in enumerate(members, start=1):
                out.append(self._component(member, gid) | {"position": inside})
        return out

    def _affected(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        wanted = set(ids)
        return [c for c in self._components if not c["group"] and c["id"] in wanted]

    def _update(self, parent: str, update: PublicUpdate) -> dict[str, Any]:
        return {
            "id": update.id,
            "status": update.status,
            "body": update.text,
            "incident_id": parent,
            "created_at": stamp(update.at),
            "updated_at": stamp(update.at),
            "display_at": stamp(update.at),
            "affected_components": None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def incident(self, inc: PublicIncident) -> dict[str, Any]:
        return {
            "id": inc.id,
            "name": inc.title,
            "status": inc.status,
            "created_at": stamp(inc.created_at),
            "updated_at": stamp(inc.updated_at),
            "monitoring_at": stamp(inc.monitoring_at),
            "resolved_at": stamp(inc.resolved_at),
            "impact": inc.impact,
            "shortlink": self.page.link(f"incidents/{inc.id}.html"),
            "started_at": stamp(inc.started_at),
            "page_id": self.page.id,
            "incident_updates": [self._update(inc.id, u) for u in inc.updates],
            "components": self._affected(inc.components),
        }

    def maintenance(self, m: PublicMaintenance) -> dict[str, Any]:
        """A maintenance with its updates, each in its own status, the first posted when it
        was scheduled (publish_maintenance): never an empty list."""
        return {
            "id": m.id,
            "name": m.title,
            "status": m.status,
            "created_at": stamp(m.created_at),
            "updated_at": stamp(max([m.created_at, *(u.at for u in m.updates)])),
            "monitoring_at": None,
            "resolved_at": stamp(m.ends_at) if m.status == "completed" else None,
            "impact": "maintenance",
            "shortlink": self.page.link(f"maintenance.html#{m.id}"),
            "started_at": None if m.status == "scheduled" else stamp(m.scheduled_for),
            "page_id": self.page.id,
            "incident_updates": [self._update(m.id, u) for u in m.updates],
            "components": self._affected(m.components),
            "scheduled_for": stamp(m.scheduled_for),
            "scheduled_until": stamp(m.scheduled_until),
        }

    def status(self) -> dict[str, str]:
        return {"indicator": self.indicator, "description": self.description}

    def documents(self) -> dict[str, Any]:
        """Relative path -> the document's data."""
        page = page_dict(self.page)
        unresolved = [self.incident(i) for i in self.incidents if i.is_open]
        upcoming = [m for m in self.maintenances if m.status == "scheduled"]
        active = [m for m in self.maintenances if m.status in ("in_progress", "verifying")]
        soonest_first = sorted(upcoming, key=lambda m: (m.scheduled_for, m.id))
        return {
            "api/v2/summary.json": {
                "page": page,
                "components": self._components,
                "incidents": unresolved,
                "scheduled_maintenances": [self.maintenance(m) for m in active + soonest_first],
                "status": self.status(),
            },
            "api/v2/status.json": {"page": page, "status": self.status()},
            "api/v2/components.json": {"page": page, "components": self._components},
            "api/v2/incidents.json": {
                "page": page,
                "incidents": [self.incident(i) for i in self.incidents[:RECENT]],
            },
            "api/v2/incidents/unresolved.json": {"page": page, "incidents": unresolved},
            "api/v2/scheduled-maintenances.json": {
                "page": page,
                "scheduled_maintenances": [self.maintenance(m) for m in self.maintenances[:RECENT]],
            },
            "api/v2/scheduled-maintenances/upcoming.json": {
                "page": page,
                "scheduled_maintenances": [self.maintenance(m) for m in soonest_first],
            },
            "api/v2/scheduled-maintenances/active.json": {
                "page": page,
                "scheduled_maintenances": [self.maintenance(m) for m in active],
            },
        }
