"""The Jinja2 environment every rendered document shares: notifications, PIRs, runbooks.

Templates are package data under `incidentctl/templates/`; a repository overrides any of them,
or adds its own, by putting a file with the same relative name under its own `templates/`.
Rendering is strict: a template that names a field that does not exist is an error naming the
template file and line (StrictUndefined), while a field that exists but holds no value renders
as an explicit "unknown", never as a blank or "None".
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from markupsafe import Markup

from incidentctl.core.documents import dump_scalar
from incidentctl.core.errors import IncidentctlError
from incidentctl.core.timevalues import format_timestamp

UNKNOWN = "unknown"
_PACKAGE = "incidentctl"


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def _finalize(value: Any) -> Any:
    if _is_empty(value):
        return UNKNOWN
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return value


def _finalize_markdown(value: Any) -> Any:
    """Values are data, not markup: HTML in an incident title must not become HTML."""
    shown = _finalize(value)
    if isinstance(shown, Markup):
        return shown
    return html.escape(str(shown), quote=False)


def environment(repo_root: Path | None, *, html_safe: bool = False) -> jinja2.Environment:
    """The environment: repository templates first, then the package's.

    `html_safe` escapes &, < and > in every value (for markdown that a browser or GitHub may
    render); plain text and YAML front-matter leave values as they are.
    """
    loaders: list[jinja2.BaseLoader] = []
    if repo_root is not None and (repo_root / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(repo_root / "templates"))
    loaders.append(jinja2.PackageLoader(_PACKAGE, "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize_markdown if html_safe else _finalize,
    )
    env.globals["UNKNOWN"] = UNKNOWN
    env.filters["yaml"] = _yaml
    env.filters["cell"] = _cell
    return env


def _yaml(value: Any) -> str:
    """A value as one YAML scalar, quoted where YAML needs it (front-matter templates)."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return dump_scalar(value)


def _cell(value: Any) -> str:
    """A value inside a markdown table cell: one line, pipes escaped."""
    if _is_empty(value):
        return "-"
    text = value.value if isinstance(value, Enum) else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def origin(env: jinja2.Environment, repo_root: Path | None, name: str) -> str:
    """'repository' when the repository overrides template `name`, else 'built-in'."""
    if repo_root is not None and (repo_root / "templates" / name).is_file():
        return "repository"
    return "built-in"


def _shown_path(filename: str | None, repo_root: Path | None) -> str:
    if not filename:
        return "<template>"
    path = Path(filename)
    if repo_root is not None:
        try:
            return str(path.resolve().relative_to(repo_root.resolve()))
        except ValueError:
            pass
    marker = f"{_PACKAGE}/templates/"
    text = str(path)
    return (
        "<built-in> " + text[text.index(marker) + len(_PACKAGE) + 1 :] if marker in text else text
    )


def _template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    line = None
    while tb is not None:
        if filename and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(
    env: jinja2.Environment, name: str, context: Mapping[str, Any], *, repo_root: Path | None
) -> str:
    """Render template `name`; every template mistake becomes an IncidentctlError."""
    try:
        template = env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = _shown_path(exc.filename, repo_root) + (f":{exc.lineno}" if exc.lineno else "")
        raise IncidentctlError(
            f"{where}: template syntax error: {exc.message}",
            hint="fix the template (Jinja2 syntax: {{ value }}, {% if %}...{% endif %})",
        ) from None
    except jinja2.TemplateNotFound:
        raise IncidentctlError(f"no template named {name!r}") from None
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        where = _shown_path(template.filename, repo_root)
        line = _template_line(exc.__traceback__, template.filename)
        available = ", ".join(sorted(context))
        raise IncidentctlError(
            f"{where}{f':{line}' if line else ''}: {exc.message}",
            hint=f"the template names a field that does not exist; top-level names: {available}",
        ) from None
    except jinja2.TemplateError as exc:
        where = _shown_path(template.filename, repo_root)
        line = _template_line(exc.__traceback__, template.filename)
        raise IncidentctlError(f"{where}{f':{line}' if line else ''}: {exc}") from None
