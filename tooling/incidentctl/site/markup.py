"""Markdown in public text (updates, maintenance notes, PIR summaries) to safe HTML.

markdown-it-py renders CommonMark with raw HTML disabled (any tag in the source becomes text);
nh3 then sanitizes the result against a short allow-list: no script, no style, no event
handler attributes, no images, and links only to http, https and mailto. Both layers are
needed: the first keeps authors' HTML as text, the second is the guarantee.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "ul", "ol", "li", "a", "blockquote",
    "h3", "h4", "h5", "h6", "hr", "del",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.disable(["image"])
# headings inside an update must not outrank the page's own h1/h2
_md.disable(["heading", "lheading"])


@lru_cache(maxsize=65536)
def render(text: str) -> Markup:
    """Sanitized HTML for a markdown text (cached: synthetic and real updates repeat)."""
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )
    return Markup(clean.strip())  # sanitized by nh3 just above


def plain(text: str) -> str:
    """The text without markup, for feeds' summaries and tooltips (never HTML)."""
    tokens = _md.parseInline(text)
    parts: list[str] = []
    for token in tokens:
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
    return "".join(parts).strip() or text
