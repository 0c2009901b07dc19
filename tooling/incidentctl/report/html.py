"""The internal insights report: metrics as HTML tables and SVG charts, plus report.md.

Not part of the public status site: it shows internal figures (PIR gaps, overdue actions,
root causes). Rendered with autoescape and StrictUndefined; no JavaScript, so it reads the
same in any browser, in a mail client's preview, or printed. A repository overrides the page
with its own `templates/report/index.html.j2`, rendered in the template sandbox
(`render.templating.Sandbox`) from plain data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from incidentctl.deadlines.registry import SLA_RULES  # which timers, in which order
from incidentctl.metrics import text
from incidentctl.metrics.compute import PRIORITIES
from incidentctl.metrics.definitions import DURATIONS, LABELS
from incidentctl.render import templating
from incidentctl.render.context import plain_context
from incidentctl.report import charts
from incidentctl.store.files import write_atomic

HTML_FILE = "index.html"
MARKDOWN_FILE = "report.md"
TITLE = "Incident insights report"
TEMPLATE = "report/index.html.j2"
OVERDUE_SHOWN = 25  # the HTML lists the longest overdue actions; JSON has every one


def _environment(repo_root: Path | None) -> jinja2.Environment:
    env = templating.Sandbox(
        loader=templating.loader(repo_root),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = text.duration
    env.filters["share"] = text.share
    env.filters["figure"] = text.figure
    env.filters["change"] = text.change_text
    env.filters["sla_cell"] = text.sla_cell
    return env


def _charts(report: dict[str, Any]) -> dict[str, Any]:
    weeks = report["groups"]["week"]
    months = report["groups"]["month"]
    month_keys = [m["key"] for m in months]
    out: dict[str, Any] = {
        "weekly": charts.stacked_bars(
            "incidents-per-week",
            "Incidents per week by priority",
            [w["key"].split("-", 1)[1] for w in weeks],
            {p: [w["priorities"][p] for w in weeks] for p in PRIORITIES},
        )
    }
    for metric in ("mtta", "mttr"):
        out[metric] = charts.lines(
            f"{metric}-trend",
            f"{LABELS[metric]} per month: median and 90th percentile",
            month_keys,
            {
                "median": [m[metric]["median"] for m in months],
                "p90": [m[metric]["p90"] for m in months],
            },
            text.duration,
            seconds=True,
        )
    out["sla"] = charts.grouped_bars(
        "sla-compliance",
        "SLA compliance per timer and priority",
        list(SLA_RULES),
        {p: [report["sla"][p][rule]["compliance"] for rule in SLA_RULES] for p in PRIORITIES},
        text.share,
        top=1.0,
    )
    burndown = report["actions"]["burndown"]
    out["burndown"] = charts.lines(
        "action-burndown",
        "Preventive actions open at each week's end",
        [b["at"][5:10] for b in burndown],
        {
            "open": [b["open"] for b in burndown],
            "open and past due": [b["overdue"] for b in burndown],
        },
        lambda v: f"{v:.0f}",
    )
    causes = report["recurrence"]["root_causes"][:10]
    out["root_causes"] = charts.hbars(
        "root-causes",
        "Top recurring root causes (incidents)",
        [(c["root_cause"], c["incidents"]) for c in causes],
    )
    return out


def context(report: dict[str, Any]) -> dict[str, Any]:
    """Everything the report template may use: the metrics (`r`), charts, rows, target texts."""
    rows = [("all", report["overall"])] + [
        (p, report["by_priority"][p]) for p in PRIORITIES if report["by_priority"][p]["count"]
    ]
    return plain_context(
        {
            "title": TITLE,
            "r": report,
            "time_rows": rows,
            "metrics": [(m, LABELS[m]) for m in DURATIONS],
            "priorities": PRIORITIES,
            "sla_rules": SLA_RULES,
            "charts": _charts(report),
            "missed": [t for t in report["targets"] if not t["met"]],
            "target_text": {t["target"]: text.target_value(t) for t in report["targets"]},
            "changes": text.key_changes(report),
            "overdue_shown": OVERDUE_SHOWN,
        }
    )


def render_html(report: dict[str, Any], *, repo_root: Path | None = None) -> str:
    """index.html: the repository's templates/report/index.html.j2 if it has one."""
    template = templating.load(_environment(repo_root), TEMPLATE, repo_root=repo_root)
    return templating.render_template(template, context(report), repo_root=repo_root)


def render_markdown(report: dict[str, Any]) -> str:
    return text.markdown(report, title=TITLE)


def write(report: dict[str, Any], out: Path, *, repo_root: Path | None = None) -> list[Path]:
    """Write index.html and report.md into `out` (atomically, each); returns their paths."""
    html = render_html(report, repo_root=repo_root)
    md = render_markdown(report)
    paths = [out / HTML_FILE, out / MARKDOWN_FILE]
    write_atomic(paths[0], html)
    write_atomic(paths[1], md)
    return paths
