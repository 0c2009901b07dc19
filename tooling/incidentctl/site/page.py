"""The page's identity: its stable id, name, the URL it is served from and its time zone.

From `page:` in policies/components.yaml, with `site build --name/--base-url` over it and, in
GitHub Actions, the repository's Pages URL and name as defaults. Every id a client or feed
reader keys on (the page's, each feed's and entry's) derives from the stable id, never from
the display name, so renaming the page shows no entry again as new (RFC 4287 4.2.6). Pure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from incidentctl.core.policy import PageSettings, absolute_url

DEFAULT_NAME = "Service"


@dataclass(frozen=True)
class Page:
    id: str  # stable: page.id, never the name
    name: str
    base_url: str  # absolute, ending in "/" (the prefix of every link), or "" when unknown
    now: datetime
    time_zone: str = "Etc/UTC"

    @property
    def url(self) -> str | None:
        """The page's URL as Statuspage gives it: absolute, no trailing slash."""
        return self.base_url.rstrip("/") or None

    def link(self, rel: str = "") -> str:
        """`rel` (from the site root) as an absolute URL when the base URL is known."""
        return self.base_url + rel if self.base_url else rel


def pages_url(repository: str) -> str | None:
    """GitHub Pages' URL of `owner/name`: https://owner.github.io/name (a repository named
    owner.github.io is served at the root)."""
    owner, _, name = repository.strip().partition("/")
    if not owner or not name or "/" in name:
        return None
    host = f"{owner.lower()}.github.io"
    return f"https://{host}" if name.lower() == host else f"https://{host}/{name}"


def derived_id(url: str | None) -> str:
    """The id of a page without `page.id`: from its URL (stable while the URL is)."""
    return hashlib.sha256(f"incidentctl-page:{url or ''}".encode()).hexdigest()[:12]


def resolve(
    settings: PageSettings,
    *,
    now: datetime,
    name: str | None = None,
    base_url: str | None = None,
    repository: str | None = None,
) -> tuple[Page, list[str]]:
    """The page from its settings, the options over them and `repository` (owner/name, given
    only in GitHub Actions) for defaults; with what the build should warn about."""
    warnings: list[str] = []
    url = absolute_url(base_url) if base_url else settings.url
    if url is None and repository:
        url = pages_url(repository)
    fallback = repository.partition("/")[2] if repository else ""
    shown = (name or "").strip() or settings.name or fallback or DEFAULT_NAME
    if url is None:
        warnings.append(
            "no base URL (page.url in policies/components.yaml or --base-url): page.url is "
            "null and links are relative, which strictly typed Statuspage clients reject"
        )
    page_id = settings.id
    if page_id is None:
        page_id = derived_id(url)
        warnings.append(
            "no page.id in policies/components.yaml: page, feed and entry ids derive from the "
            f"base URL and change with it; set `page: {{id: {page_id}}}` to keep them"
        )
    base = url + "/" if url else ""
    return Page(page_id, shown, base, now, settings.time_zone), warnings
