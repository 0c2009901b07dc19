"""A process that runs incidentctl commands for tests/test_concurrency.py, one per line.

Each line on stdin is a JSON list of arguments; the command runs through the CLI's `run` (what
the `incidentctl` console script calls) and one JSON line answers: exit code, stdout, stderr.
Started once per racer, so a test can race dozens of commands from several processes in
seconds (a fresh interpreter per command costs about half a second).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from incidentctl.cli.app import run


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(json.loads(line))
        answer = {"code": code, "out": out.getvalue(), "err": err.getvalue()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
