"""Communications: the process's messages rendered from an incident.

`notify.values.context()` turns an incident and its surroundings into the values templates
see; `render()` renders `notify/<name>.md.j2` (package data,
or the repository's own `templates/notify/` override). Pure apart from reading templates: no
clock, no incident files, no click.

Public templates (status-page updates, the public resolution notice) get a restricted context:
title, affected components, status times and the timeline's public events, never internal
notes, roles, impact figures or root-cause analysis. A public-facing explanation of the cause
is a `cause` event marked `public: true`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from incidentctl.core.errors import IncidentctlError
from incidentctl.disk.regular import entries
from incidentctl.notify.values import public_context
from incidentctl.render import templating

FOLDER = "notify"
SUFFIX = ".md.j2"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class NotifyTemplate:
    name: str
    description: str
    public: bool = False
    subject: str | None = None  # default subject ({title}, {id}) when the text has none


TEMPLATES: tuple[NotifyTemplate, ...] = (
    NotifyTemplate("incident-record", "Incident record (Step 1)"),
    NotifyTemplate("initial-alert", "Initial notification to the on-call engineer (Step 1)"),
    NotifyTemplate("management-notification", "Management notification, P0/P1 (Step 4)"),
    NotifyTemplate("executive-alert", "Executive notification (Step 4)"),
    NotifyTemplate(
        "status-investigating", "Status page: investigating", True, "Investigating: {title}"
    ),
    NotifyTemplate("status-identified", "Status page: identified", True, "Identified: {title}"),
    NotifyTemplate("status-monitoring", "Status page: monitoring", True, "Monitoring: {title}"),
    NotifyTemplate("status-resolved", "Status page: resolved", True, "Resolved: {title}"),
    NotifyTemplate(
        "resolution-public",
        "Resolution notice for the status page (Step 6)",
        True,
        "Resolved: {title}",
    ),
    NotifyTemplate("resolution-internal", "[RESOLVED] internal notification (Step 6)"),
    NotifyTemplate("runbook-update", "Runbook update from this incident (Step 7)"),
    NotifyTemplate("kb-article", "Knowledge base article (Step 7)"),
)
_BY_NAME = {t.name: t for t in TEMPLATES}


def template_file(name: str) -> str:
    return f"{FOLDER}/{name}{SUFFIX}"


def is_public(name: str) -> bool:
    """Built-ins say; a repository's own template is public when named status-* or *-public."""
    known = _BY_NAME.get(name)
    if known is not None:
        return known.public
    return name.startswith("status-") or name.endswith("-public")


def available(repo_root: Path | None) -> list[dict[str, Any]]:
    """Every template name: built-ins (overridden or not) and the repository's own additions."""
    names = [t.name for t in TEMPLATES]
    folder = repo_root / "templates" / FOLDER if repo_root else None
    if folder is not None and not folder.is_symlink():  # listed, never followed
        extra = {
            e.name[: -len(SUFFIX)]
            for e in entries(folder)
            if e.name.endswith(SUFFIX) and Path(e.path).parent == folder
        }
        names += sorted(n for n in extra - set(names) if NAME_PATTERN.match(n))
    return [
        {
            "name": name,
            "audience": "public" if is_public(name) else "internal",
            "origin": template_origin(repo_root, name),
            "description": _BY_NAME[name].description if name in _BY_NAME else "",
        }
        for name in names
    ]


def template_origin(repo_root: Path | None, name: str) -> str:
    """'repository' when the repository has its own templates/notify/NAME.md.j2."""
    return templating.origin(templating.environment(repo_root), repo_root, template_file(name))


def mentions(repo_root: Path | None, name: str, word: str) -> bool:
    """Whether template `name`'s source mentions `word` (to skip costly values it never uses)."""
    env = templating.environment(repo_root)
    if env.loader is None:
        return False
    try:
        return word in env.loader.get_source(env, template_file(name))[0]
    except jinja2.TemplateNotFound:
        return False


def check_name(name: str, repo_root: Path | None) -> None:
    """Refuse an unknown template name, listing the ones there are."""
    names = [t["name"] for t in available(repo_root)]
    if name in names:
        return
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    raise IncidentctlError(
        f"no notify template named {name!r}"
        + (f"; did you mean {close[0]!r}?" if close else "")
        + f" Available: {', '.join(names)}",
        hint="`incidentctl notify --list` describes them; add your own as "
        f"templates/{FOLDER}/NAME{SUFFIX}",
    )


# -- formatting helpers (also the templates' filters) ---------------------------------------
def _utc(value: Any, fmt: str) -> Any:
    return value.astimezone(UTC).strftime(fmt) if isinstance(value, datetime) else value


FILTERS = {
    "utc": lambda v: _utc(v, "%Y-%m-%d %H:%M:%S UTC"),
    "utc_min": lambda v: _utc(v, "%Y-%m-%d %H:%M UTC"),
    "hhmm": lambda v: _utc(v, "%H:%M UTC"),
    "day": lambda v: _utc(v, "%Y-%m-%d"),
}


def environment(repo_root: Path | None, *, html_safe: bool) -> jinja2.Environment:
    env = templating.environment(repo_root, html_safe=html_safe)
    env.filters.update(FILTERS)
    return env


# -- rendering -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    name: str
    subject: str
    markdown: str  # values HTML-escaped
    text: str  # markup stripped, values as they are


def render(name: str, full: Mapping[str, Any], *, repo_root: Path | None) -> Rendered:
    """Render template `name` twice: markdown (HTML-safe values) and plain text."""
    values = public_context(full) if is_public(name) else dict(full)
    file = template_file(name)
    markdown = templating.render(
        environment(repo_root, html_safe=True), file, values, repo_root=repo_root
    )
    plain = templating.render(
        environment(repo_root, html_safe=False), file, values, repo_root=repo_root
    )
    text = to_text(plain)
    default = _BY_NAME[name].subject if name in _BY_NAME else None
    return Rendered(name, _subject(text, default, full), markdown, text)


_SUBJECT = re.compile(r"^Subject:\s*(.+)$", re.MULTILINE)


def _subject(text: str, default: str | None, values: Mapping[str, Any]) -> str:
    """The Subject: line, else the template's default subject, else the first line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and _SUBJECT.match(lines[0]):
        return lines[0].split(":", 1)[1].strip()
    if default:
        return default.format(title=values["title"], id=values["id"])
    return lines[0] if lines else str(values["title"])


def without_subject(text: str) -> str:
    """The body of an email-like message: the text after its leading Subject: line."""
    stripped = text.lstrip("\n")
    if _SUBJECT.match(stripped.split("\n", 1)[0]):
        return stripped.split("\n", 1)[1].lstrip("\n") if "\n" in stripped else ""
    return text


_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def to_text(markdown: str) -> str:
    """Plain text: no headings' #, no **bold**, no `code` or fences; links as 'text (url)'."""
    out = []
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            continue
        line = re.sub(r"^#{1,6}\s+", "", line)
        line = line.replace("**", "").replace("`", "")
        out.append(_LINK.sub(r"\1 (\2)", line))
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")
