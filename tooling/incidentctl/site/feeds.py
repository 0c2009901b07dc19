"""Atom feeds and SVG status badges, built as XML trees and serialized by ElementTree.

No text templates: every title and update is an element's text or an attribute value, so the
serializer escapes it. Feed and entry IDs are UUIDs derived from the stable page id and the
feed's path or the incident ID, never from the page's name (RFC 4287 4.2.6: an id never
changes). Links are absolute when a base URL is configured, else relative to the feed (which
Atom allows), `rel="self"` included: it resolves to the feed file itself.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from incidentctl.site import markup, verdana
from incidentctl.site.page import Page
from incidentctl.site.status import LABELS, PublicIncident

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
_NAMESPACE = uuid.UUID("4f0e5a1e-8c1b-4b8e-9a53-7d1c0e2f6a10")


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def atom(
    page: Page,
    *,
    title: str,
    feed_path: str,
    incidents: Sequence[PublicIncident],
    prefix: str,
) -> str:
    """A feed of the most recent incidents (newest first). `prefix` leads from the feed's
    folder to the site root (for relative links)."""
    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "en"})
    _sub(feed, "id", "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, page.id + "/" + feed_path)))
    _sub(feed, "title", title)
    chosen = list(incidents[:FEED_SIZE])
    updated = max((i.updated_at for i in chosen), default=page.now)
    _sub(feed, "updated", _ts(updated))
    self_href = _href(page, feed_path, prefix)  # relative to the feed's own folder
    _sub(feed, "link", rel="self", type="application/atom+xml", href=self_href)
    _sub(feed, "link", rel="alternate", type="text/html", href=_href(page, "index.html", prefix))
    _sub(_sub(feed, "author"), "name", page.name)
    _sub(feed, "generator", "incidentctl")
    for inc in chosen:
        entry = _sub(feed, "entry")
        _sub(entry, "id", "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, page.id + "/" + inc.id)))
        _sub(entry, "title", inc.title)
        _sub(entry, "published", _ts(inc.created_at))
        _sub(entry, "updated", _ts(inc.updated_at))
        _sub(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=_href(page, f"incidents/{inc.id}.html", prefix),
        )
        latest = inc.updates[0] if inc.updates else None
        summary = f"{inc.status.capitalize()}"
        if latest is not None:
            summary += f": {markup.plain(latest.text)}"
        _sub(entry, "summary", summary)
        body = "".join(
            f"<p><strong>{u.status.capitalize()}</strong> ({_ts(u.at)})</p>{markup.render(u.text)}"
            for u in inc.updates
        )
        _sub(entry, "content", body, type="html")
    ET.indent(feed, space="  ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, "unicode") + "\n"


def _href(page: Page, rel: str, prefix: str) -> str:
    return page.base_url + rel if page.base_url else prefix + rel


# -- badges --------------------------------------------------------------------------------
BADGE_COLOURS = {
    "operational": "#1a7f37",
    "under_maintenance": "#0b5cad",
    "degraded_performance": "#9a6700",
    "partial_outage": "#bc4c00",
    "major_outage": "#b3261e",
    "none": "#1a7f37",
    "maintenance": "#0b5cad",
    "minor": "#9a6700",
    "major": "#bc4c00",
    "critical": "#b3261e",
}


# shields.io's flat layout: 5 px padding each side of a text whose width is the Verdana 11 px
# advance, truncated and rounded up to odd (pixel-grid alignment); the label's text sits 1 px
# right of its box's start, the value's 1 px left of the separator. Text is drawn at 10x
# (font-size 110, scale(.1)) so positions and `textLength` are whole numbers.
_PADDING = 5
_SCALE = 10


def _text_width(text: str) -> int:
    width = int(verdana.text_width(text))
    return width + 1 if width % 2 == 0 else width


def badge(label: str, value: str, state: str) -> str:
    """A flat two-part badge, shields.io's layout and metrics, its text repeated in <title>
    for screen readers; the shadow copy of each text is hidden from them."""
    label_width, value_width = _text_width(label), _text_width(value)
    left = label_width + 2 * _PADDING
    right = value_width + 2 * _PADDING
    total = left + right
    spoken = f"{label}: {value}"
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": str(total),
            "height": "20",
            "role": "img",
            "aria-label": spoken,
        },
    )
    _sub(svg, "title", spoken)
    gradient = _sub(svg, "linearGradient", id="s", x2="0", y2="100%")
    _sub(gradient, "stop", offset="0", **{"stop-color": "#bbb", "stop-opacity": ".1"})
    _sub(gradient, "stop", offset="1", **{"stop-opacity": ".1"})
    clip = _sub(svg, "clipPath", id="r")
    _sub(clip, "rect", width=str(total), height="20", rx="3", fill="#fff")
    shapes = _sub(svg, "g", **{"clip-path": "url(#r)"})
    _sub(shapes, "rect", width=str(left), height="20", fill="#444d56")
    _sub(shapes, "rect", x=str(left), width=str(right), height="20", fill=BADGE_COLOURS[state])
    _sub(shapes, "rect", width=str(total), height="20", fill="url(#s)")
    texts = _sub(
        svg,
        "g",
        fill="#fff",
        **{
            "text-anchor": "middle",
            "font-family": "Verdana,Geneva,DejaVu Sans,sans-serif",
            "text-rendering": "geometricPrecision",
            "font-size": "110",
        },
    )
    for text, margin, width in ((label, 1, label_width), (value, left - 1, value_width)):
        x = str(_SCALE * (margin + _PADDING) + _SCALE * width // 2)
        length = str(_SCALE * width)
        common = {"x": x, "transform": "scale(.1)", "textLength": length}
        _sub(
            texts,
            "text",
            text,
            y="150",
            fill="#010101",
            **common,
            **{"fill-opacity": ".3", "aria-hidden": "true"},
        )
        _sub(texts, "text", text, y="140", **common)
    return ET.tostring(svg, "unicode") + "\n"


def component_badge(name: str, status: str) -> str:
    return badge(name, LABELS[status].lower(), status)
