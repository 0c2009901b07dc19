"""The Jinja2 environment every rendered document shares: notifications, PIRs, runbooks.

Templates are package data under `incidentctl/templates/`; a repository overrides any of them,
or adds its own, by putting a file with the same relative name under its own `templates/`.
Rendering is strict: a template that names a field that does not exist is an error naming the
template file and line (StrictUndefined), while a field that exists but holds no value renders
as an explicit "unknown", never as a blank or "None".

A repository's templates are written by whoever can open a pull request, so every template a
repository can override (these, the site's pages, the report) renders in `Sandbox`, Jinja's
immutable sandbox, from plain data only (`render.context.plain`): a template reads the values
it is given and applies filters; it cannot reach Python internals, change a value, or call a
method of a model or a repository object. What the sandbox refuses is a user error naming the
template file and line.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.loaders import split_template_path
from jinja2.runtime import Macro
from jinja2.sandbox import MAX_RANGE, ImmutableSandboxedEnvironment
from markupsafe import Markup

from incidentctl.core.documents import dump_scalar
from incidentctl.core.errors import DocumentError, IncidentctlError
from incidentctl.core.timevalues import format_timestamp
from incidentctl.disk.regular import regular_file
from incidentctl.render.context import Memo, plain_context

UNKNOWN = "unknown"
_PACKAGE = "incidentctl"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
MAX_BITS = 1 << 20  # the largest number `**` may compute in a template, in bits (~315,000 digits)


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, which refuses attributes starting with `_`, methods that
    change a list or dict, unsafe `str.format` and ranges longer than MAX_RANGE; here also a
    `**` or a `*` that would build a huge number, string or list (`10**(10**10)` would otherwise
    hang while the template compiles, as Jinja folds constants)."""

    intercepted_binops = frozenset({"**", "*"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        if operator == "**" and _huge_power(left, right):
            raise SecurityError(f"{operator!r}: the result would be larger than {MAX_BITS} bits")
        if operator == "*" and (_huge_repeat(left, right) or _huge_repeat(right, left)):
            raise SecurityError(f"{operator!r}: the result would be longer than {MAX_RANGE}")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`value.name` on plain data: a dict's key that is not a dict attribute is looked up
        directly, as Jinja would after `getattr` failed (the failed lookup, an exception per
        field shown, was a fifth of a status page's rendering); a macro of an imported
        template is returned as Jinja would after its checks; everything else as Jinja does."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        if type(obj) is TemplateModule and not attribute.startswith("_"):
            value = getattr(obj, attribute, None)  # `ui.when`: an imported template's macro
            if type(value) is Macro:
                return value  # what Jinja's checks would allow: a public name, not a format
        return super().getattr(obj, attribute)

    def call(
        __self,  # Jinja's signature: the prefixes keep every keyword free for the callee
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """A template's macro is called without Jinja's check of the callable (a macro is
        always safe: it runs template code, which is sandboxed itself); anything else is
        checked. A status page calls a macro per update shown."""
        if type(__obj) is Macro:
            return __context.call(__obj, *args, **kwargs)
        return super().call(__context, __obj, *args, **kwargs)


_DICT_ATTRIBUTES = frozenset(dir(dict))  # what `getattr` finds on a dict (it has no __dict__)


def _huge_power(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int) or not isinstance(exponent, int) or abs(base) < 2:
        return False
    return exponent > 0 and exponent * abs(base).bit_length() > MAX_BITS


def _huge_repeat(sequence: Any, times: Any) -> bool:
    return (
        isinstance(sequence, str | list | tuple)
        and isinstance(times, int)
        and len(sequence) * times > MAX_RANGE
    )


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


class RepositoryLoader(jinja2.BaseLoader):
    """A repository's own templates under `folder`, read as regular files only
    (`core.regular.regular_file`, the store's check): a template that is a symlink (to
    /etc/passwd, to a private incident), a FIFO or a device, or that sits in a symlinked
    folder, is refused with an error naming it, never followed; a missing one is not found,
    so the built-in template is used."""

    def __init__(self, root: Path, folder: str) -> None:
        self.root = root
        self.folder = folder

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        path = self.root.joinpath(self.folder, *split_template_path(template))  # no ".."
        try:
            raw = regular_file(path, self.root)
        except (FileNotFoundError, NotADirectoryError):
            raise jinja2.TemplateNotFound(template) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(
                self.root.joinpath(self.folder, template).relative_to(self.root),
                f"not valid UTF-8 (at byte {exc.start})",
                hint="save the template as UTF-8",
                rule="encoding",
            ) from None
        mtime = os.lstat(path).st_mtime

        def uptodate() -> bool:
            try:
                return os.lstat(path).st_mtime == mtime
            except OSError:
                return False

        return text, str(path), uptodate


def loader(repo_root: Path | None) -> jinja2.BaseLoader:
    """The repository's templates/ first, then the package's (documents, messages, report)."""
    loaders: list[jinja2.BaseLoader] = []
    if repo_root is not None:
        loaders.append(RepositoryLoader(repo_root, "templates"))
    loaders.append(jinja2.PackageLoader(_PACKAGE, "templates"))
    return jinja2.ChoiceLoader(loaders)


def environment(repo_root: Path | None, *, html_safe: bool = False) -> jinja2.Environment:
    """The environment: repository templates first, then the package's.

    `html_safe` escapes &, < and > in every value (for markdown that a browser or GitHub may
    render); plain text and YAML front-matter leave values as they are.
    """
    env = Sandbox(
        loader=loader(repo_root),
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
    if repo_root is not None and os.path.lexists(repo_root / "templates" / name):
        return "repository"
    return "built-in"


def _shown_path(filename: str | None, repo_root: Path | None) -> str:
    if not filename or filename == "<template>":
        return "<template>"
    path = Path(filename).resolve()
    if repo_root is not None and path.is_relative_to(repo_root.resolve()):
        return str(path.relative_to(repo_root.resolve()))
    if path.is_relative_to(_PACKAGE_DIR):
        return f"<built-in> {path.relative_to(_PACKAGE_DIR)}"
    return filename


def _innermost(exc: BaseException) -> tuple[str | None, int | None]:
    """The file and line of the template code that raised `exc`: Jinja rewrites tracebacks so
    that template frames carry the template's file and line; the innermost one is where it
    happened (an included or extended template, a macro)."""
    filename, line = None, None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return filename, line


def _where(exc: BaseException, template: jinja2.Template, repo_root: Path | None) -> str:
    """`file:line` where `exc` happened, else the file of the template rendered."""
    filename, line = _innermost(exc)
    return _shown_path(filename or template.filename, repo_root) + (f":{line}" if line else "")


def _in_repository(exc: BaseException, repo_root: Path | None) -> bool:
    """Whether `exc` happened in one of the repository's own templates."""
    filename, _ = _innermost(exc)
    if repo_root is None or filename is None or filename == "<template>":
        return False
    return Path(filename).resolve().is_relative_to((repo_root / "templates").resolve())


def load(env: jinja2.Environment, name: str, *, repo_root: Path | None) -> jinja2.Template:
    """Template `name`; a syntax error becomes an IncidentctlError naming file and line."""
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = _shown_path(exc.filename, repo_root) + (f":{exc.lineno}" if exc.lineno else "")
        raise IncidentctlError(
            f"{where}: template syntax error: {exc.message}",
            hint="fix the template (Jinja2 syntax: {{ value }}, {% if %}...{% endif %})",
        ) from None
    except jinja2.TemplateNotFound:
        raise IncidentctlError(f"no template named {name!r}") from None


def render_template(
    template: jinja2.Template,
    context: Mapping[str, Any],
    *,
    repo_root: Path | None,
    memo: Memo | None = None,
) -> str:
    """Render `template` from `context` as plain data; every template mistake, and everything
    the sandbox refuses, becomes an IncidentctlError naming the template file and line.
    `memo` shares the plain form of frozen values across a series of renders."""
    values = plain_context(context, memo)
    try:
        return template.render(values)
    except jinja2.UndefinedError as exc:
        available = ", ".join(sorted(values))
        raise IncidentctlError(
            f"{_where(exc, template, repo_root)}: {exc.message}",
            hint=f"the template names a field that does not exist; top-level names: {available}",
        ) from None
    except (SecurityError, OverflowError) as exc:
        raise IncidentctlError(
            f"{_where(exc, template, repo_root)}: refused by the template sandbox: {exc}",
            hint="templates render in a sandbox: they read the values they are given and use "
            "filters; they cannot reach Python internals (names starting with _), change a "
            "value, or build huge values",
        ) from None
    except jinja2.TemplateError as exc:
        raise IncidentctlError(f"{_where(exc, template, repo_root)}: {exc}") from None
    except IncidentctlError:
        raise
    except Exception as exc:
        # `{{ 1/0 }}` or `{{ "a" + 1 }}` in a repository template is its author's mistake; in
        # a built-in template it is a bug, so that stays a traceback.
        if not _in_repository(exc, repo_root):
            raise
        raise IncidentctlError(
            f"{_where(exc, template, repo_root)}: {type(exc).__name__}: {exc}",
            hint="fix the template",
        ) from None


def render(
    env: jinja2.Environment, name: str, context: Mapping[str, Any], *, repo_root: Path | None
) -> str:
    """Render template `name`; every template mistake becomes an IncidentctlError."""
    return render_template(load(env, name, repo_root=repo_root), context, repo_root=repo_root)
