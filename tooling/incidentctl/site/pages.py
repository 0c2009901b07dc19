"""The HTML pages: a strict, autoescaping Jinja2 environment over site/templates.

A repository overrides any page template by putting a file with the same name under its own
`templates/site/`. Values are data: titles and names are escaped by autoescape; markdown
(updates, maintenance notes, PIR summaries) goes through `markup.render` (sanitized). Pages
render in the template sandbox (`render.templating.Sandbox`) from plain data only: a
repository's page template is code from a pull request, and the site build may run with
secrets in its environment.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from incidentctl.render import templating
from incidentctl.render.context import Memo
from incidentctl.site import markup
from incidentctl.site.status import LABELS, format_uptime

_ICONS = {
    "operational": "✓",
    "under_maintenance": "🔧",
    "degraded_performance": "▲",
    "partial_outage": "◆",
    "major_outage": "✕",
    "none": "✓",
    "maintenance": "🔧",
    "minor": "▲",
    "major": "◆",
    "critical": "✕",
}


# A site shows tens of thousands of times, and strftime was a tenth of its rendering: the
# date part, which pages repeat, is formatted once per day (strftime: %Y and %b as always);
# the clock part is only digits.
_DAY = "%-d %b %Y"


@lru_cache(maxsize=8192)
def _iso_date(value: date) -> str:
    return value.strftime("%Y-%m-%d")


@lru_cache(maxsize=8192)
def _day_of(value: date) -> str:
    return value.strftime(_DAY)


def _iso(value: datetime) -> str:
    at = value.astimezone(UTC)
    return f"{_iso_date(at.date())}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}Z"


def _human(value: datetime) -> str:
    at = value.astimezone(UTC)
    return f"{_day_of(at.date())}, {at.hour:02d}:{at.minute:02d} UTC"


def _day(value: date) -> str:
    return _day_of(value) if type(value) is date else value.strftime(_DAY)


def _markdown(text: str | None) -> Markup:
    return markup.render(text or "")


class _Pages(templating.Sandbox):
    """The sandbox, with the templates a page extends and imports kept by name: a build's
    templates do not change (no auto_reload), and Jinja's own cache, an LRU under a lock,
    was looked up twice per page."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._loaded: dict[tuple[str, str | None], jinja2.Template] = {}

    def get_template(
        self,
        name: str | jinja2.Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,  # Jinja's name for it
    ) -> jinja2.Template:
        if globals is not None or not isinstance(name, str):
            return super().get_template(name, parent, globals)
        template = self._loaded.get((name, parent))
        if template is None:
            template = self._loaded[(name, parent)] = super().get_template(name, parent)
        return template


def environment(repo_root: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if repo_root is not None:  # regular files only: a symlinked page template is refused
        loaders.append(templating.RepositoryLoader(repo_root, "templates/site"))
    loaders.append(jinja2.PackageLoader("incidentctl", "site/templates"))
    env = _Pages(
        loader=jinja2.ChoiceLoader(loaders),
        # a build renders each template thousands of times and its templates do not change
        # meanwhile: no stat of every extended and imported template's file per page
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        iso=_iso,
        human=_human,
        day=_day,
        markdown=_markdown,
        label=lambda s: LABELS.get(s, s),
        icon=lambda s: _ICONS.get(s, ""),
        uptime=format_uptime,
    )
    return env


class Renderer:
    """Renders pages by template name, turning template errors into user errors. An
    incident reaches several pages (its own, its month's, the index): its plain form is built
    once per build (`context.plain`'s memo)."""

    def __init__(self, repo_root: Path | None) -> None:
        self.env = environment(repo_root)
        self.repo_root = repo_root
        self._cache: dict[str, jinja2.Template] = {}
        self._memo: Memo = {}

    def render(self, name: str, **values: Any) -> str:
        template = self._cache.get(name)
        if template is None:
            template = templating.load(self.env, name, repo_root=self.repo_root)
            self._cache[name] = template
        return templating.render_template(
            template, values, repo_root=self.repo_root, memo=self._memo
        )
