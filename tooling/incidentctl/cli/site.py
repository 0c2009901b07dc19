"""`incidentctl site build|serve`: the public status site."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from incidentctl.cli.common import current_now, now_option, repo_from
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.policy import absolute_url
from incidentctl.site import build as builder
from incidentctl.site import serve as preview


@click.group(
    epilog="""\b
Examples:
  incidentctl site build --out _site --base-url https://status.example.com/
  incidentctl site serve --out _site --port 8000
"""
)
def site() -> None:
    """Build or preview the public status page (HTML, Statuspage JSON API, Atom, badges)."""


@site.command(
    "build",
    epilog="""\b
Examples:
  incidentctl site build --out _site
  incidentctl site build --out _site --name Parcelly --base-url https://org.github.io/status/
  incidentctl site build --out _site --now 2026-11-27T16:00:00Z     replay a moment
The page's name, stable id, URL and time zone come from `page:` in
policies/components.yaml; --name and --base-url override them. In GitHub Actions the
default URL is the repository's Pages URL (https://OWNER.github.io/REPO).
Only incidents with public: true and at least one public update are published, with their
public updates only; a security or data-loss incident only once released (incidentctl
release). Exit code: 0 built, 2 usage or input error.
""",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (new, empty, or an earlier build's).",
)
@click.option("--name", help="The page's name (default: page.name, else Service).")
@click.option(
    "--base-url",
    metavar="URL",
    help="Absolute URL the site is served from (default: page.url; in GitHub Actions the "
    "Pages URL).",
)
@now_option
@click.pass_context
def build(
    ctx: click.Context, out: Path, name: str | None, base_url: str | None, now_text: str | None
) -> None:
    """Render the status site into --out from one scan of the repository."""
    if base_url:
        try:
            absolute_url(base_url)
        except ValueError:
            raise click.BadParameter(
                "must be an absolute https:// or http:// URL", param_hint="--base-url"
            ) from None
    repo = repo_from(ctx)
    now = current_now(now_text)
    tty = sys.stderr.isatty()
    result = builder.build(
        repo,
        out,
        now=now,
        name=name,
        base_url=base_url,
        repository=_actions_repository(),
        progress=(lambda text: click.echo(text, err=True)) if tty else None,
    )
    for text in result.warnings:
        click.echo(f"warning: {text}", err=True)
    for path in result.skipped:
        click.echo(f"warning: {path}: not valid, left off the site (see `incidentctl validate`)",
                   err=True)  # fmt: skip
    click.echo(
        f"{out}: {result.files} files ({result.written} written, {result.removed} removed); "
        f"{result.published} of {result.incidents} incidents published, "
        f"{result.maintenances} maintenance(s)"
    )


def _actions_repository() -> str | None:
    """owner/name when running in GitHub Actions on github.com (whose Pages URL is known)."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return None
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return os.environ.get("GITHUB_REPOSITORY") or None if server == "https://github.com" else None


@site.command(
    "serve",
    epilog="""\b
Examples:
  incidentctl site serve                    serves _site on http://127.0.0.1:8000/
  incidentctl site serve --out build/site --port 9000
""",
)
@click.option("--out", default="_site", show_default=True, type=click.Path(path_type=Path))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(out: Path, port: int) -> None:
    """Preview a built site on 127.0.0.1 (Ctrl-C stops it)."""
    if not (out / "index.html").is_file():
        raise IncidentctlError(
            f"{out}/index.html does not exist", hint=f"run `incidentctl site build --out {out}`"
        )
    try:
        httpd = preview.server(out, port)
    except OSError as exc:
        raise IncidentctlError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    click.echo(f"serving {out} on http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


COMMANDS: list[click.Command] = [site]
