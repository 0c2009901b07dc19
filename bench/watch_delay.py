"""How long after its deadline does `incidentctl watch` deliver a reminder?

    python bench/watch_delay.py [--deadlines 24] [--spacing 1.7] [--interval 30s] [--remote]

Declares --deadlines P0 incidents in a fresh repository whose acknowledgement deadlines fall
--spacing seconds apart (the first once all are declared), starts one real `incidentctl watch`
process (the wall clock, a loopback JSON webhook as the only sink, routed `acknowledge` only),
and records when each breach arrives at the sink. The delay of a breach is its arrival minus
its deadline: a breach is overdue one second after the deadline (`now > due`), so about 1 s is
the floor.
With --remote the delivery record is a bare repository pushed to (as in GitHub Actions), else
the local file.

Prints the median and the worst delay and writes every figure to bench/out/watch_delay.json.
Exits 1 when a breach did not arrive, or arrived twice.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

INCIDENTCTL = Path(sys.executable).with_name("incidentctl")
OUT = Path(__file__).resolve().parent / "out"
ACK = timedelta(minutes=1)  # the P0 acknowledgement target of the shipped sla.yaml
ROUTES = """\
sinks:
  - name: bench
    url: json://127.0.0.1:${BENCH_SINK_PORT}/
routes:
  - rules: [acknowledge]
    sinks: [bench]
  - sinks: []
"""


class Sink:
    """A loopback webhook that stamps each message with its arrival (wall clock)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                sink.arrivals.append((time.time(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _run(root: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(INCIDENTCTL), *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"incidentctl {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadlines", type=int, default=24)
    parser.add_argument("--spacing", type=float, default=1.7, help="seconds between deadlines")
    parser.add_argument("--interval", default="30s")
    parser.add_argument("--remote", action="store_true", help="the record on a bare remote")
    args = parser.parse_args()
    sink = Sink()
    env = {
        **os.environ,
        "BENCH_SINK_PORT": str(sink.port),
        "INCIDENTCTL_ACTOR": "@bench",
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    for name in ("INCIDENTCTL_NOW", "GITHUB_REPOSITORY", "GITHUB_TOKEN"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="incidentctl-watch-bench-") as folder:
        root = Path(folder) / "repo"
        _run(Path(folder), env, "init", str(root))
        (root / "policies" / "notifications.yaml").write_text(ROUTES, encoding="utf-8")
        _git(root, "add", "-A")
        _git(root, "-c", "user.name=bench", "-c", "user.email=b@e", "commit", "-qm", "init")
        if args.remote:
            bare = Path(folder) / "origin.git"
            _git(Path(folder), "clone", "-q", "--bare", str(root), str(bare))
            _git(root, "remote", "add", "origin", str(bare))
        lead = timedelta(seconds=15 + args.deadlines)  # declaring takes up to a second each
        first = datetime.now(UTC).replace(microsecond=0) + lead
        due: dict[str, datetime] = {}
        for n in range(args.deadlines):
            # whole seconds, as every timestamp; the spacing makes them fall at varied
            # points of the watcher's interval
            at = first + timedelta(seconds=round(n * args.spacing)) - ACK
            incident = _run(
                root, env, "declare", "--title", f"Bench {n}", "--impact", "high",
                "--urgency", "high", "--services", "example-service", "--at", _stamp(at),
            )  # fmt: skip
            due[incident] = at + ACK
        if datetime.now(UTC) >= first:
            raise SystemExit("declaring took longer than the lead time: lower --deadlines")
        watcher = subprocess.Popen(
            [str(INCIDENTCTL), "watch", "--interval", args.interval],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        until = time.time() + (max(due.values()) - datetime.now(UTC)).total_seconds() + 60
        while len(sink.arrivals) < len(due) and time.time() < until:
            time.sleep(0.1)
        time.sleep(3)  # anything arriving twice would arrive now
        watcher.send_signal(signal.SIGTERM)
        _out, err = watcher.communicate(timeout=60)
    arrived: dict[str, list[float]] = {}
    for stamp, message in sink.arrivals:
        incident = str(message["title"]).split()[1]
        arrived.setdefault(incident, []).append(stamp)
    delays = sorted(arrived[i][0] - due[i].timestamp() for i in due if i in arrived)
    missing = sorted(set(due) - set(arrived))
    twice = sorted(i for i, stamps in arrived.items() if len(stamps) > 1)
    figures = {
        "deadlines": len(due),
        "delivered": len(delays),
        "missing": missing,
        "delivered_twice": twice,
        "median_s": round(statistics.median(delays), 3) if delays else None,
        "worst_s": round(max(delays), 3) if delays else None,
        "best_s": round(min(delays), 3) if delays else None,
        "delays_s": [round(d, 3) for d in delays],
        "interval": args.interval,
        "record": "bare remote" if args.remote else "local file",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "watch_delay.json").write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(
        f"{len(delays)}/{len(due)} deadlines delivered ({figures['record']}): "
        f"median {figures['median_s']} s, worst {figures['worst_s']} s, "
        f"best {figures['best_s']} s after the deadline"
    )
    if missing or twice:
        print(f"missing: {missing}; twice: {twice}\n{err[-2000:]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
