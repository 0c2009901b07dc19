"""`incidentctl report`: the internal HTML report opened in headless Chromium (with and without
JavaScript), its charts checked against the figures, hostile text kept inert, and report.md."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from incidentctl.report import charts
from tests.conftest import Invoke, git
from tests.test_metrics_cli import HOSTILE, NOW, corpus  # noqa: F401  (fixture)

CHARTS = {
    "incidents-per-week",
    "mtta-trend",
    "mttr-trend",
    "sla-compliance",
    "action-burndown",
    "root-causes",
}


@pytest.fixture
def built(corpus: Path, cli: Invoke, tmp_path: Path) -> tuple[Path, dict[str, Any]]:  # noqa: F811
    out = tmp_path / "report"
    result = cli("report", "--out", str(out), "--now", NOW, "--from", "2026-11-01")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [str(out / "index.html"), str(out / "report.md")]
    data = json.loads(
        cli("metrics", "--now", NOW, "--from", "2026-11-01", "--by", "week", "--format", "json").out
    )
    return out, data


def open_page(browser: Any, url: str, *, javascript: bool = True) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append("dialog " + d.message), d.dismiss()))
    response = page.goto(url)
    assert response is not None
    assert response.status == 200
    return context, page, problems


def test_report_in_chromium(
    built: tuple[Path, dict[str, Any]],
    browser: Any,
    serve: Callable[[Path], str],
    corpus: Path,  # noqa: F811
) -> None:
    out, data = built
    context, page, problems = open_page(browser, serve(out) + "index.html")
    try:
        assert page.title() == "Incident insights report 2026-11-01 to 2026-11-27"
        names = page.eval_on_selector_all("svg.chart", "els => els.map(e => e.dataset.chart)")
        assert set(names) == CHARTS
        summary = page.inner_text("#summary")
        assert summary.startswith("5 incidents: 4 resolved, 1 open.")
        stamp = page.inner_text("header .stamp")
        assert git(corpus, "rev-parse", "HEAD").strip() in stamp
        assert data["source"]["policy"] in stamp
        # one bar per (week, priority) with incidents
        bars = page.locator('svg[data-chart="incidents-per-week"] rect.bar').count()
        expected = sum(1 for w in data["groups"]["week"] for n in w["priorities"].values() if n)
        assert bars == expected == 5
        # one MTTR point per month with a resolved incident, for median and p90
        assert page.locator('svg[data-chart="mttr-trend"] circle.point').count() == 2
        assert page.locator('svg[data-chart="root-causes"] rect.bar').count() == 1
        assert "bad-deploy" in page.inner_text("#recurrence")
        missed = page.inner_text("#targets")
        for target in ("Recurrence rate", "PIR completion P1", "Preventive actions done on time"):
            assert target in missed
        assert "MTTA P0" not in missed  # met
        # hostile text from a PIR is shown as text, never run
        assert page.locator("script").count() == 0
        assert page.locator("img").count() == 0
        assert HOSTILE in page.inner_text("#actions")
        assert problems == []
    finally:
        context.close()


def test_report_reads_without_javascript(
    built: tuple[Path, dict[str, Any]], browser: Any, serve: Callable[[Path], str]
) -> None:
    out, _ = built
    context, page, problems = open_page(browser, serve(out) + "index.html", javascript=False)
    try:
        assert page.locator("svg.chart").count() == len(CHARTS)
        box = page.locator('svg[data-chart="sla-compliance"]').bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 100
        assert "Definitions" in page.inner_text("#definitions")
        assert problems == []
    finally:
        context.close()


def test_report_markdown(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    md = (out / "report.md").read_text(encoding="utf-8")
    assert md.startswith("## Incident insights report\n")
    for heading in (
        "### Response times",
        "### SLA compliance",
        "### Targets",
        "### By week",
        "### By month",
        "### Compared with 2026-10-05T08:00:00Z",
    ):
        assert heading in md
    assert "<script" not in md
    assert "<img" not in md
    assert "<details><summary>Definitions</summary>" in md


def test_report_out_must_be_a_folder(corpus: Path, cli: Invoke, tmp_path: Path) -> None:  # noqa: F811
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    result = cli("report", "--out", str(target), "--now", NOW)
    assert result.code == 2
    assert result.err.endswith(
        "Error: Invalid value for '--out': Directory '" + str(target) + "' is a file.\n"
    )
    assert target.read_text(encoding="utf-8") == "x"


def test_charts_escape_labels_and_handle_no_data() -> None:
    svg = charts.hbars("c", "<b>title</b>", [("<script>", 3)])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    empty = charts.lines("l", "t", ["2026-11"], {"median": [None]}, str)
    assert "polyline" not in empty
    assert "circle" not in empty
    bars = charts.grouped_bars("g", "t", ["a"], {"P0": [0.0]}, str, top=1.0)
    assert 'height="0"' in bars  # a zero is drawn (and labelled), not dropped


def test_report_on_an_empty_repository(
    repo: Path, cli: Invoke, tmp_path: Path, browser: Any, serve: Callable[[Path], str]
) -> None:
    out = tmp_path / "empty"
    result = cli("report", "--out", str(out), "--now", NOW)
    assert result.code == 0, result.err
    context, page, problems = open_page(browser, serve(out) + "index.html")
    try:
        assert page.inner_text("#summary").startswith("0 incidents: 0 resolved, 0 open.")
        assert page.inner_text("#targets").endswith(
            "No target missed (none could be judged: no data)."
        )
        assert page.locator("svg.chart").count() == len(CHARTS) - 1  # no root causes to show
        assert problems == []
    finally:
        context.close()


def test_report_filters_by_priority_and_service(cli: Invoke, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "p0"
    result = cli("--repo", str(root), "report", "--out", str(out), "--priority", "P0",
                 "--service", "checkout-api", "--now", "2026-11-27T16:00:00Z")  # fmt: skip
    assert result.code == 0, result.err
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "**1** (1 resolved, 0 open)" in text  # the sample P0 alone
    assert "Only priority P0; service checkout-api." in text
