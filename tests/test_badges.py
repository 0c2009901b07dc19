"""Badges laid out as shields.io lays them out: Verdana 11 px widths, textLength, padding."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from incidentctl.site import feeds, verdana
from tests.conftest import NOW, Invoke

SVG = "{http://www.w3.org/2000/svg}"

# Advance widths from shields.io's table (anafanafo verdana-11px-normal), typed in here
# independently of the module's packed table.
TABLE = {
    " ": 3.87, "a": 6.61, "b": 6.85, "c": 5.73, "d": 6.85, "e": 6.55, "g": 6.85, "h": 6.96,
    "i": 3.02, "k": 6.51, "l": 3.02, "m": 10.7, "n": 6.96, "o": 6.68, "p": 6.85, "r": 4.69,
    "s": 5.73, "t": 4.33, "u": 6.96, "v": 6.51, "A": 7.52, "C": 7.68, "M": 9.27, "W": 10.88,
    "0": 6.99, "f": 3.87, "P": 6.63, "I": 4.63, "9": 6.99, "%": 11.84, ".": 4.0, "é": 6.55,
    "ü": 6.96, "–": 6.99, "Z": 7.54, "z": 5.78, "—": 11.0,
}  # fmt: skip


def _expected(text: str) -> float:
    total = 0.0
    for char in text:
        total += TABLE[char]
    return total


@pytest.mark.parametrize(
    "text",
    ["operational", "degraded performance", "API", "Checkout", "99.99%", "Café – Zürich"],
)
def test_text_width_is_the_sum_of_the_tables_advances(text: str) -> None:
    assert verdana.text_width(text) == pytest.approx(_expected(text), abs=1e-9)


def test_a_few_widths_by_hand() -> None:
    assert verdana.text_width("build") == pytest.approx(26.7)
    assert verdana.text_width("passing") == pytest.approx(41.75)
    assert verdana.text_width("—–") == pytest.approx(17.99)
    assert verdana.text_width("Mm") == pytest.approx(9.27 + 10.7)


def test_unknown_characters_count_as_an_m_and_control_characters_as_nothing() -> None:
    assert verdana.text_width("服务") == pytest.approx(2 * 10.7)
    assert verdana.text_width("a\tb\x7f") == pytest.approx(6.61 + 6.85)


def _parts(svg: str) -> tuple[ET.Element, list[ET.Element], list[ET.Element]]:
    root = ET.fromstring(svg)  # valid XML, or this raises
    rects = root.findall(f"{SVG}g/{SVG}rect")
    texts = root.findall(f"{SVG}g/{SVG}text")
    return root, rects, texts


def test_the_badge_has_shields_io_geometry() -> None:
    """shields.io renders label 'build', message 'passing' as 88 px: 37 + 51, text centred at
    19.5 and 61.5 px with textLength 27 and 41 px (the widths truncated, rounded up to odd)."""
    root, rects, texts = _parts(feeds.badge("build", "passing", "operational"))
    assert root.get("width") == "88"
    assert root.get("height") == "20"
    assert [(r.get("x"), r.get("width")) for r in rects[:2]] == [(None, "37"), ("37", "51")]
    shadow, label, shadow2, value = texts
    assert (label.text, label.get("x"), label.get("textLength")) == ("build", "195", "270")
    assert (value.text, value.get("x"), value.get("textLength")) == ("passing", "615", "410")
    assert shadow.get("aria-hidden") == shadow2.get("aria-hidden") == "true"
    assert shadow.get("x") == "195"
    assert label.get("transform") == "scale(.1)"
    assert root.get("aria-label") == "build: passing"
    assert root.findtext(f"{SVG}title") == "build: passing"


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("API", "operational"),
        ("Checkout & payments", "degraded performance"),
        ("Wide WWW MMM", "major outage"),
        ("Café – Zürich", "under maintenance"),
        ("<script>", "a&b"),
    ],
)
def test_padding_is_five_pixels_around_the_measured_text(label: str, value: str) -> None:
    root, rects, texts = _parts(feeds.badge(label, value, "partial_outage"))
    left, right = int(rects[0].get("width", "")), int(rects[1].get("width", ""))
    for text, box in ((label, left), (value, right)):
        width = int(verdana.text_width(text))
        width += 1 if width % 2 == 0 else 0
        assert box == width + 10
    assert int(root.get("width", "")) == left + right
    _, label_el, _, value_el = texts
    assert label_el.text == label
    assert value_el.text == value
    # the texts are centred in their boxes, label 1 px right, value 1 px left of centre
    assert int(label_el.get("x", "")) == 10 * left // 2 + 10
    assert int(value_el.get("x", "")) == 10 * left + 5 * right - 10
    assert int(label_el.get("textLength", "")) == 10 * (left - 10)


def test_the_built_badges_are_valid_svg(samples: Path, cli: Invoke) -> None:
    assert cli("site", "build", "--out", "site", "--now", NOW).code == 0
    badges = sorted((samples / "site" / "badges").glob("*.svg"))
    assert len(badges) >= 2
    for path in badges:
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        texts = root.findall(f"{SVG}g/{SVG}text")
        assert len(texts) == 4
        assert all(t.get("textLength", "").isdigit() for t in texts)
