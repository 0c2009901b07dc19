"""Benchmark incidentctl on a synthetic repository, against the floor, in one run.

    python bench/run.py [--count 10000] [--corpus DIR] [--keep] [--repeat 3]

Times, on the same corpus and machine:
  floor A   list and read every incident and PIR file (bytes): what any tool pays;
  floor B   floor A + split the front-matter + yaml.load(front, Loader=yaml.CSafeLoader);
  floor C   floor A + split + yaml_rs.loads(front): the parser incidentctl reads with;
  COMMANDS  each `incidentctl ...` command below, run as a child process in the corpus
            (wall time, peak RSS of the child, exit code);
  start-up  `incidentctl --version` against `python -c pass`.

Each figure is the best of --repeat runs (--slow-repeat for commands marked slow, best of
--startup-repeat for start-up); floor B is run --repeat times before the commands and again
after them, and every ratio is against its best of both. Prints a table and writes
bench/out/results.json. Exits 0 whatever the commands' exit codes (they are reported); 2 on
a usage error.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import yaml
import yaml_rs

from corpus import END, generate
from reviews import add_reviews

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "out" / "results.json"
INCIDENT_FILE = "incident.md"
PIR_FILE = "pir.md"
NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(END))  # for commands that take --now


class Command(NamedTuple):
    """One timed `incidentctl` invocation: a row name and the arguments after `incidentctl`."""

    name: str
    argv: list[str]
    slow: bool = False  # run --slow-repeat times (default 1) instead of --repeat
    warm: bool = False  # with the results cache filled by untimed runs; else cache off


# The commands timed on the corpus, in order. Add a row per command to benchmark. Rows run
# with the results cache off (every file parsed: the figure a fresh CI checkout sees) unless
# marked warm (nothing changed since the last run: a developer's or `site serve`'s rebuild).
COMMANDS: list[Command] = [
    Command("incidentctl validate", ["validate"]),
    Command("incidentctl overdue", ["overdue", "--now", NOW, "--format", "json"]),
    Command("incidentctl pir check", ["pir", "check", "--format", "json"]),
    # a full build into a new folder (once), then a rebuild where nothing changed
    Command("incidentctl site build", ["site", "build", "--out", "_site", "--now", NOW], True),
    Command("incidentctl site build (rebuild)", ["site", "build", "--out", "_site", "--now", NOW]),
    # the process's numbers over a year beside the year before, and the insights report
    Command(
        "incidentctl metrics",
        ["metrics", "--now", NOW, "--since", "365d", "--compare", "previous", "--format", "json"],
    ),
    Command("incidentctl report", ["report", "--out", "_report", "--now", NOW, "--since", "365d"]),
    # with the results cache warm (only validate and overdue have results to reuse)
    Command("incidentctl validate (warm cache)", ["validate"], warm=True),
    Command(
        "incidentctl overdue (warm cache)",
        ["overdue", "--now", NOW, "--format", "json"],
        warm=True,
    ),
]


def command_env(warm: bool, cache_dir: Path) -> dict[str, str]:
    """The environment of a timed command: the bench's own results cache, on or off."""
    env = {**os.environ, "INCIDENTCTL_CACHE_DIR": str(cache_dir)}
    env["INCIDENTCTL_CACHE"] = "on" if warm else "off"
    return env


@dataclass
class Step:
    """One row of the report."""

    step: str
    seconds: float
    runs: list[float]
    cpu_seconds: float | None = None  # user + system CPU of the best run (less load-bound)
    ratio_to_floor_b: float | None = None
    cpu_ratio_to_floor_b: float | None = None
    peak_rss_mb: float | None = None
    exit_code: int | None = None
    note: str = ""
    argv: list[str] = field(default_factory=list)


@dataclass
class ChildRun:
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    exit_code: int
    stdout: str
    stderr: str


def incident_files(root: Path) -> list[Path]:
    """Every incidents/**/incident.md and pir.md (the documents `validate` parses), one walk."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root / "incidents"):
        dirs.sort()
        for name in (INCIDENT_FILE, PIR_FILE):
            if name in files:
                found.append(Path(folder) / name)
    return found


def floor_read(root: Path) -> int:
    """Floor A: list and read every incident file; returns the bytes read."""
    total = 0
    for path in incident_files(root):
        total += len(path.read_bytes())
    return total


def floor_parse(root: Path) -> int:
    """Floor B: floor A, then split off the front-matter and parse it with libyaml."""
    parsed = 0
    for path in incident_files(root):
        text = path.read_bytes().decode("utf-8")
        end = text.find("\n---\n", 3)
        if not text.startswith("---\n") or end < 0:
            raise SystemExit(f"{path}: no front-matter; is this an incident repository?")
        data = yaml.load(text[4 : end + 1], Loader=yaml.CSafeLoader)
        parsed += isinstance(data, dict)
    return parsed


def floor_parse_rs(root: Path) -> int:
    """Floor C: floor A, then split off the front-matter and parse it with yaml-rs (YAML 1.2,
    compiled), the parser incidentctl uses; the collector paused, as in the store."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    parsed = 0
    try:
        for path in incident_files(root):
            text = path.read_bytes().decode("utf-8")
            end = text.find("\n---\n", 3)
            data = yaml_rs.loads(text[4 : end + 1], parse_datetime=False)
            parsed += isinstance(data, dict)
    finally:
        if enabled:
            gc.enable()
    return parsed


def floor_parse_no_gc(root: Path) -> int:
    """Floor B with the garbage collector paused, as the store's bulk load does."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        return floor_parse(root)
    finally:
        if enabled:
            gc.enable()


def best_of(repeat: int, func: Callable[[], object]) -> list[float]:
    """Wall seconds of each run; the CPU seconds of each in `CPU_RUNS` (the last call's)."""
    runs: list[float] = []
    CPU_RUNS.clear()
    for _ in range(max(1, repeat)):
        start, cpu = time.perf_counter(), time.process_time()
        func()
        runs.append(time.perf_counter() - start)
        CPU_RUNS.append(time.process_time() - cpu)
    return runs


CPU_RUNS: list[float] = []


def _rss_mb(maxrss: int) -> float:
    """ru_maxrss is in KiB on Linux, in bytes on macOS."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


# A child's ru_maxrss starts from its parent's resident size at fork (Linux carries the
# high-water mark across exec), so children are started by this minimal interpreter (about
# 9 MB) rather than by the benchmark (tens of MB once the corpus is loaded). It writes
# "seconds maxrss exitcode cpu" to the file named by its first argument.
_LAUNCHER = """\
import os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawn(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as handle:
    cpu = usage.ru_utime + usage.ru_stime
    handle.write(f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu!r}")
"""


def run_child(argv: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> ChildRun:
    """Run a command to completion: its wall time, peak RSS (that child alone), exit code."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        report = Path(tmp) / "report"
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(report), *argv]
        done = subprocess.run(
            launcher, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if done.returncode != 0 or not report.exists():
            raise SystemExit(f"could not run {argv[0]} (exit {done.returncode}):\n{stderr}")
        seconds, maxrss, exit_code, cpu = report.read_text(encoding="utf-8").split()
        return ChildRun(
            seconds=float(seconds),
            cpu_seconds=float(cpu),
            peak_rss_mb=_rss_mb(int(maxrss)),
            exit_code=int(exit_code),
            stdout=stdout,
            stderr=stderr,
        )


def time_child(
    name: str, argv: list[str], cwd: Path, repeat: int, env: dict[str, str] | None = None
) -> tuple[Step, ChildRun]:
    """Best wall time of `repeat` runs; peak RSS is the highest seen; the last run's output."""
    runs: list[ChildRun] = [run_child(argv, cwd, env) for _ in range(max(1, repeat))]
    last = runs[-1]
    step = Step(
        step=name,
        seconds=min(r.seconds for r in runs),
        runs=[r.seconds for r in runs],
        cpu_seconds=min(r.cpu_seconds for r in runs),
        peak_rss_mb=max(r.peak_rss_mb for r in runs),
        exit_code=last.exit_code,
        argv=list(argv),
    )
    return step, last


def _report_output(step: Step, child: ChildRun) -> None:
    """Exit 1 is findings: show a few; a crash or any other exit code: show stderr."""
    if step.exit_code == 0:
        return
    if step.exit_code == 1 and "Traceback (most recent call last)" not in child.stderr:
        step.note = "exit 1 (findings)"
        lines = child.stdout.splitlines()
        print(f"{step.step}: exit 1 (findings), first lines of {len(lines)}:", file=sys.stderr)
        for line in lines[:10]:
            print(f"  {line}", file=sys.stderr)
        return
    step.note = f"exit {step.exit_code}: FAILED, figure not meaningful"
    print(f"{step.step}: exit {step.exit_code}; its stderr:", file=sys.stderr)
    for line in child.stderr.splitlines()[-40:]:
        print(f"  {line}", file=sys.stderr)


def prepare_corpus(args: argparse.Namespace) -> tuple[Path, bool, float | None]:
    """(corpus root, whether to delete it afterwards, generation seconds or None if reused)."""
    if args.corpus is not None:
        root: Path = args.corpus.resolve()
        if (root / "incidents").is_dir() and incident_files(root):
            return root, False, None
        delete = False
    else:
        root = Path(tempfile.mkdtemp(prefix="incidentctl-bench-"))
        delete = not args.keep
    start = time.perf_counter()
    generate(root, args.count, open_share=args.open_share, seed=args.seed)
    add_reviews(root, seed=args.seed)
    return root, delete, time.perf_counter() - start


def _fmt_seconds(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def print_table(steps: list[Step], incidents: int) -> None:
    header = (
        "step",
        "seconds",
        "µs/incident",
        "vs floor B",
        "CPU s",
        "CPU vs B",
        "peak RSS MB",
        "note",
    )
    rows = [
        (
            s.step,
            _fmt_seconds(s.seconds),
            f"{s.seconds / incidents * 1e6:.0f}" if incidents else "-",
            "-" if s.ratio_to_floor_b is None else f"{s.ratio_to_floor_b:.2f}x",
            "-" if s.cpu_seconds is None else _fmt_seconds(s.cpu_seconds),
            "-" if s.cpu_ratio_to_floor_b is None else f"{s.cpu_ratio_to_floor_b:.2f}x",
            "-" if s.peak_rss_mb is None else f"{s.peak_rss_mb:.1f}",
            s.note,
        )
        for s in steps
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    align = ("<", ">", ">", ">", ">", ">", ">", "<")
    for n, row in enumerate([header, *rows]):
        cells = [f"{cell:{a}{w}}" for cell, a, w in zip(row, align, widths, strict=True)]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark incidentctl against the read/parse floor on a synthetic corpus."
    )
    parser.add_argument("--count", type=int, default=10_000, help="incidents to generate")
    parser.add_argument("--corpus", type=Path, help="reuse this repository (generated if empty)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step, best kept")
    parser.add_argument("--slow-repeat", type=int, default=1, help="runs for slow commands")
    parser.add_argument("--startup-repeat", type=int, default=10, help="runs per start-up row")
    parser.add_argument("--open-share", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    exe = Path(sys.executable).parent / "incidentctl"
    if not exe.exists():
        parser.error(f"{exe} not found; install the package (pip install -e .) in this venv")

    root, delete, generated = prepare_corpus(args)
    try:
        files = incident_files(root)
        size = sum(p.stat().st_size for p in files)
        how = f"generated in {generated:.1f} s" if generated is not None else "reused"
        reviews = sum(1 for p in files if p.name == PIR_FILE)
        print(
            f"corpus {root}: {len(files) - reviews:,} incidents and {reviews:,} PIRs, "
            f"{size / len(files) / 1024:.1f} KiB average ({how})",
            file=sys.stderr,
        )

        steps: list[Step] = []
        floor_read(root)  # warm the page cache: every row reads from memory
        runs = best_of(args.repeat, lambda: floor_read(root))
        steps.append(Step(f"floor A: read {len(files):,} files", min(runs), runs, min(CPU_RUNS)))
        runs = best_of(args.repeat, lambda: floor_parse(root))
        floor_b = Step("floor B: + split + libyaml parse", min(runs), runs, min(CPU_RUNS))
        steps.append(floor_b)
        runs = best_of(args.repeat, lambda: floor_parse_no_gc(root))
        steps.append(Step("floor B, gc paused", min(runs), runs, min(CPU_RUNS)))
        runs = best_of(args.repeat, lambda: floor_parse_rs(root))
        steps.append(Step("floor C: + split + yaml-rs parse", min(runs), runs, min(CPU_RUNS)))

        cache_dir = Path(tempfile.mkdtemp(prefix="incidentctl-bench-cache-"))
        primed = False
        for command in COMMANDS:
            repeat = args.slow_repeat if command.slow else args.repeat
            env = command_env(command.warm, cache_dir)
            if command.warm and not primed:  # fill the cache, untimed
                run_child([str(exe), "validate"], root, env)
                run_child([str(exe), "overdue", "--now", NOW], root, env)
                primed = True
            step, child = time_child(command.name, [str(exe), *command.argv], root, repeat, env)
            _report_output(step, child)
            steps.append(step)
        shutil.rmtree(cache_dir, ignore_errors=True)
        # floor B again after the commands: the ratios are against its best over the whole
        # run, so a quiet spell during the floor's first runs cannot flatter the commands
        after = best_of(args.repeat, lambda: floor_parse(root))
        floor_b.runs += after
        floor_b.seconds = min(floor_b.runs)
        floor_b.cpu_seconds = min(floor_b.cpu_seconds or math.inf, *CPU_RUNS)
        floor_b.note = f"best of {len(floor_b.runs)}: before and after the commands"
        for step in steps:
            step.ratio_to_floor_b = step.seconds / floor_b.seconds if floor_b.seconds else None
            if step.cpu_seconds is not None and floor_b.cpu_seconds:
                step.cpu_ratio_to_floor_b = step.cpu_seconds / floor_b.cpu_seconds

        python, _ = time_child(
            "start-up: python -c pass", [sys.executable, "-c", "pass"], root, args.startup_repeat
        )
        version, child = time_child(
            "start-up: incidentctl --version", [str(exe), "--version"], root, args.startup_repeat
        )
        _report_output(version, child)
        if version.exit_code == 0 and python.seconds:
            version.note = f"{version.seconds / python.seconds:.1f}x python -c pass"
        steps += [python, version]

        incidents = len(files) - reviews
        print_table(steps, incidents)
        if hasattr(os, "getloadavg"):
            print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        results = {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": _commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "corpus": str(root) if not delete else None,
            "incidents": incidents,
            "files": len(files),
            "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "average_bytes": round(size / len(files)),
            "open_share": args.open_share,
            "seed": args.seed,
            "generated_seconds": generated,
            "repeat": args.repeat,
            "steps": [asdict(s) for s in steps],
        }
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {RESULTS}", file=sys.stderr)
    finally:
        if delete:
            shutil.rmtree(root, ignore_errors=True)
        elif args.corpus is None:
            print(f"corpus kept in {root}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
