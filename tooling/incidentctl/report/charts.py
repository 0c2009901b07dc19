"""Server-rendered SVG charts for the insights report: no JavaScript, every label escaped.

Pure: data in, SVG text (markupsafe.Markup) out. Colour is never the only signal: every
series has a text legend, and the report prints the numbers in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 40, 40
PALETTE = ("#b91c1c", "#ea580c", "#ca8a04", "#2563eb", "#7c3aed", "#0f766e")
DASHES = ("", "6 3", "2 3", "8 3 2 3")

Format = Callable[[float], str]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


_TIME_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _scale_max(values: Sequence[float], *, seconds: bool = False) -> float:
    """A round top for the y axis, so the four gridlines fall on readable values."""
    top = max([v for v in values if v is not None] or [0.0])
    if top <= 0:
        return 1.0 if not seconds else 60.0
    if seconds:
        step = next((s for s in _TIME_STEPS if 4 * s >= top), None)
        return 4.0 * (step if step is not None else 86400 * -(-top // (4 * 86400)))
    return float(4 * -(-top // 4))  # counts: whole-number gridlines


def _frame(name: str, title: str, body: list[str], legend: Sequence[str]) -> Markup:
    items = []
    x = _LEFT
    for i, label in enumerate(legend):
        color = PALETTE[i % len(PALETTE)]
        items.append(
            f'<rect x="{x}" y="8" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="17" font-size="11">{escape(label)}</text>'
        )
        x += 24 + 7 * len(label)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(items)
        + "".join(body)
        + "</svg>"
    )
    return Markup(svg)


def _axes(top: float, fmt: Format, labels: Sequence[str]) -> list[str]:
    plot_h = HEIGHT - _TOP - _BOTTOM
    out = []
    for i in range(5):
        value = top * i / 4
        y = HEIGHT - _BOTTOM - plot_h * i / 4
        out.append(
            f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{_num(y)}" y2="{_num(y)}" '
            'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{_LEFT - 6}" y="{_num(y + 4)}" font-size="10" text-anchor="end">'
            f"{escape(fmt(value))}</text>"
        )
    step = max(1, len(labels) // 12)
    width = (WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    for i, label in enumerate(labels):
        if i % step:
            continue
        x = _LEFT + width * (i + 0.5)
        out.append(
            f'<text x="{_num(x)}" y="{HEIGHT - _BOTTOM + 16}" font-size="10" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return out


def stacked_bars(
    name: str, title: str, labels: Sequence[str], series: dict[str, Sequence[int]]
) -> Markup:
    """One bar per label, stacked by series (e.g. incidents per week by priority)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = _scale_max(totals)
    plot_h = HEIGHT - _TOP - _BOTTOM
    width = (WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    body = _axes(top, lambda v: _num(v), labels)
    for i, label in enumerate(labels):
        base = float(HEIGHT - _BOTTOM)
        for s, (key, values) in enumerate(series.items()):
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            base -= h
            body.append(
                f'<rect class="bar" x="{_num(_LEFT + width * i + 2)}" y="{_num(base)}" '
                f'width="{_num(max(1.0, width - 4))}" height="{_num(h)}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} {escape(key)}: '
                f"{values[i]}</title></rect>"
            )
    return _frame(name, title, body, list(series))


def grouped_bars(
    name: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    fmt: Format,
    top: float | None = None,
) -> Markup:
    """Bars side by side per label (e.g. SLA compliance per timer, one bar per priority)."""
    top = top or _scale_max([v for vs in series.values() for v in vs if v is not None])
    plot_h = HEIGHT - _TOP - _BOTTOM
    width = (WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    bar = (width - 8) / max(1, len(series))
    body = _axes(top, fmt, labels)
    for i, label in enumerate(labels):
        for s, (key, values) in enumerate(series.items()):
            value = values[i]
            if value is None:
                continue
            h = plot_h * value / top
            x = _LEFT + width * i + 4 + bar * s
            body.append(
                f'<text x="{_num(x + bar / 2)}" y="{_num(HEIGHT - _BOTTOM - h - 3)}" '
                f'font-size="9" text-anchor="middle">{escape(fmt(value))}</text>'
            )
            body.append(
                f'<rect class="bar" x="{_num(x)}" y="{_num(HEIGHT - _BOTTOM - h)}" '
                f'width="{_num(max(1.0, bar - 1))}" height="{_num(h)}" '
                f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)} {escape(key)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    return _frame(name, title, body, list(series))


def lines(
    name: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    fmt: Format,
    *,
    seconds: bool = False,
) -> Markup:
    """One polyline per series over the labels; gaps where a value is missing."""
    top = _scale_max([v for vs in series.values() for v in vs if v is not None], seconds=seconds)
    plot_h = HEIGHT - _TOP - _BOTTOM
    width = (WIDTH - _LEFT - _RIGHT) / max(1, len(labels))
    body = _axes(top, fmt, labels)
    for s, (key, values) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        dash = DASHES[s % len(DASHES)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            x = _LEFT + width * (i + 0.5)
            y = HEIGHT - _BOTTOM - plot_h * value / top
            runs[-1].append(f"{_num(x)},{_num(y)}")
            body.append(
                f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{color}">'
                f"<title>{escape(labels[i])} {escape(key)}: {escape(fmt(value))}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline class="line" points="{" ".join(run)}" fill="none" '
                    f'stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>'
                )
    return _frame(name, title, body, list(series))


def hbars(name: str, title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars with their label and value (e.g. top recurring root causes)."""
    top = _scale_max([v for _, v in items])
    row = 22
    height = max(60, _TOP + row * len(items) + 12)
    body = []
    for i, (label, value) in enumerate(items):
        y = _TOP + row * i
        w = (WIDTH - 280) * value / top
        body.append(
            f'<text x="200" y="{y + 14}" font-size="11" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="208" y="{y + 3}" width="{_num(max(1.0, w))}" height="14" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{_num(214 + w)}" y="{y + 14}" font-size="11">{value}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(name)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )
    return Markup(svg)
