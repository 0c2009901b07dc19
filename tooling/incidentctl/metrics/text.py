"""The metrics report (metrics.compute's dict) as text, markdown and CSV. Pure formatting."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from incidentctl.core.timevalues import format_duration
from incidentctl.deadlines.registry import SLA_RULES  # which timers, in which order
from incidentctl.metrics.compute import PRIORITIES, flatten
from incidentctl.metrics.definitions import DURATIONS, LABELS

_STATS = ("mean", "median", "p90", "max")
_GROUPED = ("by_priority", "sla", "pir", "tiers", "groups")
_COUNTED = ("detection", "services", "categories")
_KEY_SUFFIXES = (
    ".count",
    ".mean",
    ".median",
    ".p90",
    ".compliance",
    ".share",
    ".rate",
    ".completion",
    ".on_time",
)


def duration(value: float | None) -> str:
    return "-" if value is None else format_duration(value)


def share(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.0f}%" if value * 100 == round(value * 100) else f"{value * 100:.1f}%"


def figure(path: str, value: Any) -> str:
    """A value of a flattened path, shown the way a person reads it."""
    if value is None:
        return "-"
    last = path.rsplit(".", 1)[-1]
    if last in _STATS:
        return duration(value)
    if last in ("compliance", "share", "rate", "completion", "on_time"):
        return share(value)
    return str(value)


def change_text(path: str, value: Any) -> str:
    if value is None:
        return "-"
    sign = "+" if value > 0 else ("-" if value < 0 else "±")
    last = path.rsplit(".", 1)[-1]
    if last in _STATS:
        return sign + duration(abs(value))
    if last in ("compliance", "share", "rate", "completion", "on_time"):
        return f"{sign}{abs(value) * 100:.1f} pts"
    return f"{sign}{abs(value)}"


def key_changes(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures a person compares (the JSON and CSV have every one)."""
    rows: list[dict[str, Any]] = []
    for row in report.get("changes", []):
        path: str = row["figure"]
        parts = path.split(".")
        if not path.endswith(_KEY_SUFFIXES):
            continue
        if parts[0] == "sla" and parts[1] != "all":
            continue
        if parts[-1] == "count" and parts[-2] in DURATIONS:
            continue  # how many were measured: in the JSON and CSV
        if (
            parts[0] == "by_priority"
            and len(parts) == 4
            and parts[2:]
            not in (
                ["mtta", "median"],
                ["mttr", "median"],
            )
        ):
            continue
        if parts[0] == "tiers" and parts[-1] != "share":
            continue
        if row["current"] is None and row["previous"] is None:
            continue
        rows.append(row)
    return rows


def _change_rows(report: dict[str, Any]) -> list[list[str]]:
    """The key figures beside the previous window: figure, now, before, change."""
    return [
        [
            row["figure"],
            figure(row["figure"], row["current"]),
            figure(row["figure"], row["previous"]),
            change_text(row["figure"], row["change"]),
        ]
        for row in key_changes(report)
    ]


def _pad(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _time_rows(label: str, figures: dict[str, Any]) -> list[list[str]]:
    rows = []
    for metric in DURATIONS:
        f = figures[metric]
        rows.append(
            [label, LABELS[metric], str(f["count"]), str(f["excluded"])]
            + [duration(f[s]) for s in _STATS]
        )
    return rows


def sla_cell(cell: dict[str, Any]) -> str:
    decided = cell["met"] + cell["missed"] + cell["overdue"]
    return "-" if not decided else f"{share(cell['compliance'])} ({cell['met']}/{decided})"


def _header(report: dict[str, Any]) -> list[str]:
    w, src = report["window"], report["source"]
    lines = [
        f"Incident metrics, incidents detected from {w['from']} to {w['to']} (as of {w['now']})",
        f"source: commit {(src['commit'] or 'unknown')[:12]}, policy {src['policy']}",
    ]
    filters = [f"priority {', '.join(w['priority'])}"] if w["priority"] else []
    filters += [f"service {', '.join(w['service'])}"] if w["service"] else []
    if filters:
        lines.append("filters: " + "; ".join(filters))
    o = report["overall"]
    lines.append(f"{o['count']} incidents: {o['resolved']} resolved, {o['open']} open")
    return lines


def _lines_tiers(report: dict[str, Any]) -> Iterator[str]:
    t = report["tiers"]
    for tier in (1, 2, 3):
        row = t[f"tier_{tier}"]
        low, high = row["target"]
        verdict = "" if row["met"] is None else ("  ok" if row["met"] else "  MISSED")
        yield (
            f"tier {tier}: {row['count']} of {t['resolved']} resolved ({share(row['share'])}), "
            f"target {share(low)}-{share(high)}{verdict}"
        )


def _lines_quality(report: dict[str, Any]) -> Iterator[str]:
    r = report["recurrence"]
    verdict = "" if r["met"] is None else ("  ok" if r["met"] else "  MISSED")
    yield (
        f"recurrence: {r['recurrences']} of {r['with_root_cause']} with a root-cause key "
        f"({share(r['rate'])}), target below {share(r['target_max'])}{verdict}; "
        f"{r['unknown']} without a key"
    )
    for group in r["root_causes"]:
        yield f"  {group['root_cause']}: {', '.join(group['earlier'] + group['recurrences'])}"
    for key in ("P0", "P1"):
        p = report["pir"][key]
        missing = f"; missing: {', '.join(p['missing'])}" if p["missing"] else ""
        yield (
            f"PIR {key}: {p['completed']} of {p['resolved']} resolved approved, "
            f"{p['pending']} not due yet; completion {share(p['completion'])}, "
            f"on time {share(p['on_time'])}{missing}"
        )
    a = report["actions"]
    decided = a["met"] + a["missed"] + a["overdue"]
    verdict = "" if a["target_met"] is None else ("  ok" if a["target_met"] else "  MISSED")
    yield (
        f"actions: {a['total']} ({a['done']} done, {a['open']} open, {a['cancelled']} "
        f"cancelled); done on time {a['met']}/{decided} ({share(a['on_time'])}), target "
        f"{share(a['target'])}{verdict}; {a['overdue']} overdue"
    )
    for item in a["overdue_actions"][:10]:
        yield f"  overdue: {item['incident']} {item['action']} due {item['due']}: {item['title']}"


def _counts_line(name: str, counts: dict[str, int]) -> str:
    return f"{name}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "-")


def target_value(row: dict[str, Any]) -> tuple[str, str]:
    if row["unit"] == "seconds":
        return duration(row["actual"]), "<= " + duration(row["limit"])
    if isinstance(row["limit"], list):
        return share(row["actual"]), f"{share(row['limit'][0])}-{share(row['limit'][1])}"
    op = {"Recurrence rate": "<", "Preventive actions done on time": ">"}.get(row["target"], ">=")
    return share(row["actual"]), f"{op} {share(row['limit'])}"


def _group_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = [["KEY", "N", "MTTA MED", "MTTA P90", "MTTR MED", "MTTR P90", "MTTD MED"]]
    for row in rows:
        out.append(
            [
                row["key"],
                str(row["count"]),
                duration(row["mtta"]["median"]),
                duration(row["mtta"]["p90"]),
                duration(row["mttr"]["median"]),
                duration(row["mttr"]["p90"]),
                duration(row["mttd"]["median"]),
            ]
        )
    return out


def text(report: dict[str, Any]) -> str:
    lines = _header(report)
    rows = [["GROUP", "METRIC", "N", "EXCL", "MEAN", "MEDIAN", "P90", "MAX"]]
    rows += _time_rows("all", report["overall"])
    for p in PRIORITIES:
        if report["by_priority"][p]["count"]:
            rows += _time_rows(p, report["by_priority"][p])
    lines += ["", *_pad(rows), ""]
    sla = [["SLA TIMER", *PRIORITIES, "ALL"]]
    for rule in SLA_RULES:
        sla.append([rule] + [sla_cell(report["sla"][k][rule]) for k in (*PRIORITIES, "all")])
    lines += [*_pad(sla), ""]
    lines += list(_lines_tiers(report)) + list(_lines_quality(report)) + [""]
    lines.append(_counts_line("detection", report["detection"]))
    lines.append(_counts_line("services", report["services"]))
    lines.append(_counts_line("categories", report["categories"]))
    missed = [t for t in report["targets"] if not t["met"]]
    lines.append("")
    lines.append(f"targets missed: {len(missed)} of {len(report['targets'])}")
    for row in missed:
        actual, target = target_value(row)
        lines.append(f"  {row['target']}: {actual} (target {target})")
    for unit, group in report.get("groups", {}).items():
        lines += ["", f"by {unit}:", *_pad(_group_rows(group))]
    if "changes" in report:
        prev = report["previous"]["window"]
        lines += ["", f"compared with {prev['from']} to {prev['to']}:"]
        table = [["FIGURE", "NOW", "BEFORE", "CHANGE"], *_change_rows(report)]
        lines += _pad(table)
    lines += [
        "",
        "definitions: " + "; ".join(f"{LABELS[m]} = {b} - {a}" for m, (a, b) in DURATIONS.items()),
        "percentiles: linear interpolation (R-7); all definitions: --format json, key "
        '"definitions"',
    ]
    return "\n".join(lines) + "\n"


# -- markdown --------------------------------------------------------------------------------
def _cell(value: str) -> str:
    return value.replace("&", "&amp;").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(_cell(c) for c in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return out


def _filters_sentence(window: dict[str, Any]) -> str:
    parts = []
    if window.get("priority"):
        parts.append("priority " + ", ".join(window["priority"]))
    if window.get("service"):
        parts.append("service " + ", ".join(window["service"]))
    return f" Only {'; '.join(parts)}." if parts else ""


def markdown(report: dict[str, Any], *, title: str = "Incident metrics") -> str:
    w, src = report["window"], report["source"]
    o = report["overall"]
    lines = [
        f"## {title}",
        "",
        f"Incidents detected from **{w['from']}** to **{w['to']}** (as of {w['now']}): "
        f"**{o['count']}** ({o['resolved']} resolved, {o['open']} open). "
        f"Commit `{(src['commit'] or 'unknown')[:12]}`, policy `{src['policy']}`."
        + _filters_sentence(w),
        "",
        "### Response times",
        "",
    ]
    rows = [["group", "metric", "n", "excluded", "mean", "median", "p90", "max"]]
    rows += _time_rows("all", o)
    for p in PRIORITIES:
        if report["by_priority"][p]["count"]:
            rows += _time_rows(p, report["by_priority"][p])
    lines += [*_table(rows), "", "### SLA compliance", ""]
    sla = [["timer", *PRIORITIES, "all"]]
    for rule in SLA_RULES:
        sla.append([rule] + [sla_cell(report["sla"][k][rule]) for k in (*PRIORITIES, "all")])
    lines += [*_table(sla), "", "### Tiers, recurrence, reviews, actions", ""]
    lines += [f"- {_cell(line.strip())}" for line in _lines_tiers(report)]
    lines += [f"- {_cell(line.strip())}" for line in _lines_quality(report)]
    lines += [
        "",
        "### Detection, services, categories",
        "",
        f"- {_cell(_counts_line('detection', report['detection']))}",
        f"- {_cell(_counts_line('services', report['services']))}",
        f"- {_cell(_counts_line('categories', report['categories']))}",
        "",
        "### Targets",
        "",
    ]
    targets = [["target", "actual", "goal", "result"]]
    for row in report["targets"]:
        actual, goal = target_value(row)
        targets.append([row["target"], actual, goal, "met" if row["met"] else "**missed**"])
    lines += _table(targets) if len(targets) > 1 else ["No target could be judged."]
    for unit, group in report.get("groups", {}).items():
        lines += ["", f"### By {unit}", "", *_table(_group_rows(group))]
    if "changes" in report:
        prev = report["previous"]["window"]
        lines += ["", f"### Compared with {prev['from']} to {prev['to']}", ""]
        table = [["figure", "now", "before", "change"], *_change_rows(report)]
        lines += _table(table)
    lines += ["", "<details><summary>Definitions</summary>", ""]
    lines += [f"- **{k}**: {_cell(v)}" for k, v in report["definitions"].items()]
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# -- csv -------------------------------------------------------------------------------------
CSV_COLUMNS = ("section", "group", "metric", "statistic", "value")


def _csv_key(parts: tuple[str, ...]) -> tuple[str, str, str, str]:
    section, middle, stat = parts[0], parts[1:-1], parts[-1]
    if section in _COUNTED:
        return section, "", stat, "count"
    if len(middle) >= 2:
        return section, middle[0], ".".join(middle[1:]), stat
    if len(middle) == 1:
        return (
            (section, middle[0], "", stat)
            if section in _GROUPED
            else (section, "", middle[0], stat)
        )
    return section, "", "", stat


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_text(report: dict[str, Any]) -> str:
    """Long format: one figure per row (section, group, metric, statistic, value)."""
    compare = "changes" in report
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow([*CSV_COLUMNS, *(("previous", "change") if compare else ())])
    pad: list[str] = ["", ""] if compare else []
    for key in ("from", "to", "now"):
        out.writerow(["window", "", "", key, report["window"][key], *pad])
    out.writerow(["source", "", "", "commit", report["source"]["commit"] or "", *pad])
    out.writerow(["source", "", "", "policy", report["source"]["policy"], *pad])
    before = {r["figure"]: r for r in report.get("changes", [])}
    sections = ("overall", "by_priority", "sla", "tiers", "recurrence", "pir", "actions")
    flat = flatten({s: report[s] for s in (*sections, *_COUNTED)})
    for parts, value in flat.items():
        extra: list[str] = []
        if compare:
            row = before.get(".".join(parts))
            extra = [_csv_value(row["previous"]), _csv_value(row["change"])] if row else ["", ""]
        out.writerow([*_csv_key(parts), _csv_value(value), *extra])
    for unit, rows in report.get("groups", {}).items():
        for row in rows:
            out.writerow([f"groups.{unit}", row["key"], "", "count", row["count"], *pad])
            for metric in DURATIONS:
                for stat in ("count", *_STATS, "excluded"):
                    value = _csv_value(row[metric][stat])
                    out.writerow([f"groups.{unit}", row["key"], metric, stat, value, *pad])
    return buffer.getvalue()
