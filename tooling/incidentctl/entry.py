"""Console entry point, kept import-light so `incidentctl --version` starts fast."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from incidentctl import __version__

        sys.stdout.write(f"incidentctl {__version__}\n")
        return 0
    from incidentctl.cli.app import run

    return run(args)
