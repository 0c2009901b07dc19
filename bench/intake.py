"""How long does `incidentctl intake serve` take to answer a delivery?

    python bench/intake.py [--count 10000] [--groups 10] [--corpus DIR]

Generates an incident repository of --count incidents (bench/corpus.py; 0: a fresh `init`
repository), commits it, starts one real receiver on 127.0.0.1 and posts, for each of --groups
new Alertmanager groups, the firing group (declared), the same again (ignored) and a partial
resolution (resolved-alert), one at a time. The figure is the receiver's own `duration_ms`
(from the request's body read to the commit done), as its log line reports it.

Prints the median and the worst per action and writes every figure to bench/out/intake.json.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate  # bench/ is not a package: its folder is on the path

INCIDENTCTL = Path(sys.executable).with_name("incidentctl")
OUT = Path(__file__).resolve().parent / "out"
PAYLOAD = Path(__file__).resolve().parent.parent / "tests" / "payloads" / "alertmanager-v4.json"
TOKEN = "bench-token"
GIT = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def _repository(root: Path, count: int) -> None:
    if not (root / "incidents").is_dir():
        if count:
            generate(root, count)
        else:
            subprocess.run([str(INCIDENTCTL), "init", str(root)], check=True, capture_output=True)
    if not (root / ".git").exists():
        env = {**os.environ, **GIT}
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "c"]):
            subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _post(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(
        "POST", "/hooks/alertmanager", body=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    status = connection.getresponse().status
    connection.close()
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--corpus", type=Path)
    args = parser.parse_args()
    temp = None if args.corpus else Path(tempfile.mkdtemp(prefix="intake-bench-"))
    root = args.corpus or (temp / "repo")  # type: ignore[operator]
    _repository(root, args.count)
    env = {**os.environ, **GIT, "INCIDENTCTL_INTAKE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [str(INCIDENTCTL), "intake", "serve", "--port", "0", "--by", "@bench"],
        cwd=root,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    port = int(process.stderr.readline().split("127.0.0.1:")[1].split()[0])
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr or []), daemon=True)
    reader.start()
    base = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    statuses = []
    for n in range(args.groups):
        firing = copy.deepcopy(base)
        firing["groupKey"] = f"bench-{os.getpid()}-{n}"
        partial = copy.deepcopy(firing)
        partial["alerts"][0]["status"] = "resolved"
        partial["alerts"][0]["endsAt"] = partial["alerts"][0]["startsAt"]
        for body in (firing, firing, partial):
            statuses.append(_post(port, json.dumps(body).encode()))
    process.terminate()
    process.wait(timeout=60)
    reader.join(timeout=10)
    figures: dict[str, list[float]] = {}
    for line in lines:
        if line.startswith('{"at"'):
            entry = json.loads(line)
            figures.setdefault(entry["action"], []).append(entry["duration_ms"])
    report: dict[str, Any] = {
        "incidents": args.count,
        "groups": args.groups,
        "statuses": sorted(set(statuses)),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "duration_ms": figures,
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "intake.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"{args.count} incidents, {args.groups} groups, load {os.getloadavg()[0]:.1f}")
    for action, values in figures.items():
        print(
            f"  {action:15} n={len(values):3}  median {statistics.median(values):7.1f} ms"
            f"  worst {max(values):7.1f} ms"
        )
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)
    return 0 if statuses and set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
