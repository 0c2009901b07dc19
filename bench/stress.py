"""Race real `incidentctl` processes on one repository and count the writes that were lost.

    python bench/stress.py [--rounds 50] [--processes 6] [--pairs 20] [--keep]

Each round declares a fresh incident, then starts --processes commands on it at once, each a
separate `python -m incidentctl` process: `ack`, `escalate --tier 2`, `snooze` and the rest
`update -m "<unique text>"`, all at one `--at` so that any order is a valid timeline. Every
command that exits 0 must be in the file afterwards (each update text exactly once, the
acknowledgement, the tier-2 escalation, the snooze); one that is refused must say why (exit 2).
Then --pairs times, two `declare --id SAME` start at once: exactly one may succeed, the other
must say the ID exists. Finally `incidentctl validate` must pass.

Prints the figures (rounds, processes, writes, lost, ...) and writes bench/out/stress.json.
Exits 1 when a write was lost, a file is invalid or both declares of a pair succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "out" / "stress.json"
AT = "2026-11-27T15:05:00Z"
DECLARED_AT = "2026-11-27T15:00:00Z"
NOW = "2026-11-27T16:00:00Z"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Stress",
    "GIT_AUTHOR_EMAIL": "stress@example.com",
    "GIT_COMMITTER_NAME": "Stress",
    "GIT_COMMITTER_EMAIL": "stress@example.com",
}


@dataclass
class Figures:
    rounds: int = 0
    processes: int = 0
    commands: int = 0
    writes: int = 0  # commands that exited 0: each must be in the file
    refused: int = 0  # exit 2 with a reason (e.g. the lock could not be had in time)
    crashed: int = 0  # any other exit code
    lost: int = 0  # writes missing from the file afterwards
    duplicated: int = 0  # update texts found more than once
    declare_pairs: int = 0
    both_declared: int = 0  # pairs where both declares reported success
    neither_declared: int = 0
    invalid_files: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)


def incidentctl(root: Path) -> list[str]:
    """`python -m incidentctl --repo ROOT`: the code on this Python's path (PYTHONPATH decides)."""
    return [sys.executable, "-m", "incidentctl", "--repo", str(root)]


def make_repo(root: Path) -> None:
    env = {**os.environ, **GIT_ENV}
    init = [sys.executable, "-m", "incidentctl", "init", str(root)]
    subprocess.run(init, check=True, capture_output=True, env=env)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)


def declare(root: Path, incident_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *incidentctl(root),
            "declare",
            "--id",
            incident_id,
            "--title",
            f"Stress {incident_id}",
            "--impact",
            "high",
            "--urgency",
            "high",
            "--services",
            "example-service",
            "--at",
            DECLARED_AT,
            "--now",
            NOW,
            "--by",
            "@stress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def commands(incident_id: str, round_no: int, processes: int) -> list[tuple[str, list[str]]]:
    """(what it leaves in the file, the command) for each process of a round."""
    timing = ["--at", AT, "--now", NOW, "--by", "@stress"]
    out: list[tuple[str, list[str]]] = [
        ("ack", ["ack", incident_id, *timing]),
        ("escalate", ["escalate", incident_id, "--tier", "2", *timing]),
        (
            f"snooze r{round_no}",
            [
                "snooze",
                incident_id,
                "--rule",
                "status-update",
                "--for",
                "15m",
                "--reason",
                f"snooze r{round_no}",
                *timing,
            ],
        ),
    ]
    for process in range(len(out), processes):
        text = f"update r{round_no} p{process}"
        out.append((text, ["update", incident_id, "-m", text, *timing]))
    return out[:processes]


def check_round(root: Path, incident_id: str, wrote: list[str], figures: Figures) -> list[str]:
    from incidentctl.core.errors import IncidentctlError
    from incidentctl.core.model import EscalationKind, EventKind
    from incidentctl.store.repo import Repo

    try:
        incident = Repo(root).find(incident_id).incident
    except IncidentctlError as exc:
        figures.invalid_files += 1
        print(f"  {incident_id}: {exc.render()}", file=sys.stderr)
        return wrote
    texts = [event.text or "" for event in incident.timeline]
    lost = []
    for what in wrote:
        if what == "ack":
            acks = [e for e in incident.timeline if e.kind == EventKind.ACKNOWLEDGED]
            present = incident.acknowledged_at is not None and len(acks) == 1
        elif what == "escalate":
            present = any(e.kind == EscalationKind.TIER_2 for e in incident.escalations)
        elif what.startswith("snooze"):
            present = any(what in text for text in texts)
        else:
            count = texts.count(what)
            figures.duplicated += count > 1
            present = count >= 1
        if not present:
            lost.append(what)
    return lost


def run(rounds: int, processes: int, pairs: int, root: Path) -> Figures:
    figures = Figures(rounds=rounds, processes=processes, declare_pairs=pairs)
    make_repo(root)
    started = time.perf_counter()
    for round_no in range(rounds):
        incident_id = f"INC-20261127-R{round_no:03d}"
        made = declare(root, incident_id)
        _, err = made.communicate()
        if made.returncode != 0:
            raise SystemExit(f"declare {incident_id} failed: {err}")
        planned = commands(incident_id, round_no, processes)
        running = [
            (what, subprocess.Popen([*incidentctl(root), *argv], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True))
            for what, argv in planned
        ]  # fmt: skip
        wrote = []
        for what, child in running:
            _, err = child.communicate()
            figures.commands += 1
            if child.returncode == 0:
                figures.writes += 1
                wrote.append(what)
            elif child.returncode == 2:
                figures.refused += 1
                reason = err.strip().splitlines()[0] if err.strip() else "(no message)"
                figures.reasons[reason] = figures.reasons.get(reason, 0) + 1
            else:
                figures.crashed += 1
                code = child.returncode
                print(f"  round {round_no}: {what}: exit {code}: {err}", file=sys.stderr)
        lost = check_round(root, incident_id, wrote, figures)
        figures.lost += len(lost)
        if lost:
            print(f"  round {round_no}: lost {', '.join(lost)}", file=sys.stderr)
    for pair in range(pairs):
        incident_id = f"INC-20261127-D{pair:03d}"
        both = [declare(root, incident_id), declare(root, incident_id)]
        results = [(child.wait(), child.communicate()[1]) for child in both]
        won = sum(1 for code, _ in results if code == 0)
        figures.both_declared += won == 2
        figures.neither_declared += won == 0
        for code, err in results:
            if code != 0 and "already exists" not in err:
                print(f"  pair {pair}: exit {code}: {err.strip()}", file=sys.stderr)
    figures.seconds = round(time.perf_counter() - started, 1)
    done = subprocess.run([*incidentctl(root), "validate"], capture_output=True, text=True)
    if done.returncode != 0:
        figures.invalid_files += max(1, done.stdout.count("error:"))
        print(done.stdout + done.stderr, file=sys.stderr)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="incidents raced on (default 50)")
    parser.add_argument("--processes", type=int, default=6, help="commands at once (default 6)")
    parser.add_argument("--pairs", type=int, default=20, help="declare races (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the repository, print it")
    args = parser.parse_args()
    if args.rounds < 1 or args.processes < 1 or args.pairs < 0:
        parser.error("--rounds and --processes must be at least 1, --pairs at least 0")
    folder = Path(tempfile.mkdtemp(prefix="incidentctl-stress-"))
    root = folder / "repo"
    root.mkdir()
    os.environ.setdefault("INCIDENTCTL_CACHE_DIR", str(folder / "cache"))
    try:
        figures = run(args.rounds, args.processes, args.pairs, root)
    finally:
        if args.keep:
            print(f"repository kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    record = {
        **asdict(figures),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for name in ("rounds", "processes", "commands", "writes", "refused", "crashed", "lost",
                 "duplicated", "declare_pairs", "both_declared", "neither_declared",
                 "invalid_files", "seconds"):  # fmt: skip
        print(f"{name:>17}: {record[name]}")
    for reason, count in sorted(figures.reasons.items(), key=lambda item: -item[1]):
        print(f"{'refused':>17}: {count} x {reason}")
    bad = figures.lost or figures.both_declared or figures.invalid_files or figures.crashed
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
