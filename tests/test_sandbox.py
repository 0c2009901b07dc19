"""Repository templates render in a sandbox, from plain data only.

Each classic Jinja escape goes into a repository template of each kind a repository can
override (notify, PIR, runbook, site page, report) and runs through the real CLI: it must
fail with exit 2 and a message naming the template file and line, run no code (the payload
would create a file) and print no secret from the environment. Then: every render context
is plain data, ordinary templates still render, and init's CODEOWNERS guards templates/.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

import jinja2
import pytest
from jinja2.exceptions import SecurityError
from markupsafe import Markup

from incidentctl.core.errors import DocumentErrors
from incidentctl.core.model import Priority
from incidentctl.deadlines import timers
from incidentctl.metrics.compute import Record, Window, compute
from incidentctl.notify import values as notify_values
from incidentctl.pir.scaffold import LinkedRunbook, pir_context
from incidentctl.render import templating
from incidentctl.render.context import plain, plain_context
from incidentctl.report import html as report_html
from incidentctl.runbooks.runbook import new_context
from incidentctl.site import build
from incidentctl.site.page import Page
from incidentctl.site.status import component_views
from incidentctl.store import scaffold
from incidentctl.store.repo import Repo
from incidentctl.store.reviews import judged
from tests.conftest import NOW, Invoke, declare

ROOT = Path(__file__).resolve().parent.parent
SECRET = "secret-marker-7f3a"
RAN = "ran-code"  # the file the payloads would create in the repository


# name -> template source (the escape is on line 2 of every template)
ESCAPES = {
    "cycler-globals-os-popen": (
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {RAN}').read() }}}}"
    ),
    "str-mro-subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "self-init-globals": "{{ self.__init__.__globals__ }}",
    "lipsum-globals": f"{{{{ lipsum.__globals__['os'].popen('touch {RAN}').read() }}}}",
    "config-class": "{{ config.__class__ }}",
    "str-format": "{{ '{0.__init__.__globals__}'.format(cycler) }}",
    "str-format-map": "{{ '{c.__init__.__globals__}'.format_map({'c': cycler}) }}",
    "format-held-indirectly": "{% set f = '{0.__init__.__globals__}'.format %}{{ f(cycler) }}",
    "attr-filter": "{{ cycler|attr('__init__')|attr('__globals__') }}",
    "attr-filter-format": "{{ ('{0.__init__.__globals__}'|attr('format'))(cycler) }}",
    "environ-via-getattr": "{{ (cycler|attr('__init__')|attr('__globals__'))['os'].environ }}",
    "huge-range": "{% for i in range(10**9) %}{{ i }}{% endfor %}",
    "huge-power": "{{ 10**(10**10) }}",  # Jinja's ** groups from the left
    "huge-string": "{{ 'x' * 10**9 }}",
}


@dataclasses.dataclass(frozen=True)
class Surface:
    template: str  # under the repository's templates/
    run: Callable[[Invoke, Path], Any]


def _notify(cli: Invoke, repo: Path) -> Any:
    return cli("notify", declare(cli), "-t", "probe", "--now", NOW)


def _pir(cli: Invoke, repo: Path) -> Any:
    return cli("pir", "new", declare(cli), "--dry-run", "--now", NOW)


def _runbook(cli: Invoke, repo: Path) -> Any:
    return cli(
        "runbook", "new", "probe", "--services", "example-service", "--title", "Probe",
        "--owner", "@sre", "--dry-run",
    )  # fmt: skip


def _site(cli: Invoke, repo: Path) -> Any:
    return cli("site", "build", "--out", str(repo / "_site"), "--now", NOW)


def _report(cli: Invoke, repo: Path) -> Any:
    return cli("report", "--out", str(repo / "_report"), "--now", NOW)


SURFACES = {
    "notify": Surface("notify/probe.md.j2", _notify),
    "pir-new": Surface("pir.md.j2", _pir),
    "runbook-new": Surface("runbook.md.j2", _runbook),
    "site-build": Surface("site/index.html.j2", _site),
    "report": Surface("report/index.html.j2", _report),
}


def _error(result: Any) -> str:
    """The error line (commands print notes before it)."""
    return next((line for line in result.err.splitlines() if line.startswith("error:")), "")


def _plant(repo: Path, template: str, text: str) -> None:
    path = repo / "templates" / template
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("surface", SURFACES)
def test_every_escape_in_a_repository_template_is_refused(
    repo: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, surface: str
) -> None:
    """One repository per kind of template, every escape in turn (a repository is slow to
    make, a command is not)."""
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("INCIDENTCTL_PROBE_SECRET", SECRET)
    chosen = SURFACES[surface]
    wrong = {}
    for name, escape in ESCAPES.items():
        _plant(repo, chosen.template, "A repository template\n" + escape + "\nend\n")
        result = chosen.run(cli, repo)
        if result.code != 2 or not _error(result).startswith(
            f"error: templates/{chosen.template}:2: "
        ):
            wrong[name] = (result.code, result.out[:200], result.err[:300])
        assert "Traceback" not in result.err, name
        assert not (repo / RAN).exists(), name
        assert SECRET not in result.out + result.err, name
    assert not wrong, wrong
    written = [p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in written if SECRET in p.read_text(encoding="utf-8", errors="replace")]
    assert not (repo / "_site").exists()
    assert not (repo / "_report").exists()
    assert not list(repo.glob("incidents/*/*/*/pir.md"))
    assert not (repo / "runbooks" / "probe.md").exists()


def test_the_refusal_says_what_the_sandbox_refused(repo: Path, cli: Invoke) -> None:
    _plant(repo, "notify/probe.md.j2", "Alert\n" + ESCAPES["cycler-globals-os-popen"] + "\n")
    result = _notify(cli, repo)
    assert _error(result) == (
        "error: templates/notify/probe.md.j2:2: refused by the template sandbox: "
        "access to attribute '__init__' of 'type' object is unsafe."
    )
    assert "hint: templates render in a sandbox" in result.err


@pytest.mark.parametrize(
    ("surface", "text"),
    [
        ("notify", "{{ incident.model_dump_json() }}"),
        ("notify", "{{ roles.update({'incident_commander': '@me'}) }}"),
        ("pir-new", "{{ incident.model_copy() }}"),
        ("pir-new", "{{ hypotheses.append(1) }}"),
        ("site-build", "{{ page.link('x') }}"),
        ("report", "{{ r.clear() }}"),
    ],
)
def test_a_template_cannot_call_methods_of_models_or_change_values(
    repo: Path, cli: Invoke, surface: str, text: str
) -> None:
    """The context holds data, not objects: no model method, no property, no mutation."""
    chosen = SURFACES[surface]
    _plant(repo, chosen.template, "A repository template\n" + text + "\n")
    result = chosen.run(cli, repo)
    assert result.code == 2, (result.out, result.err)
    assert _error(result).startswith(f"error: templates/{chosen.template}:2: "), result.err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
        ("{{ 'a' + 1 }}", "TypeError: "),
        ("{{ '{0}{1}'.format(1) }}", "IndexError: "),
    ],
)
def test_a_python_error_in_a_repository_template_is_a_located_user_error(
    repo: Path, cli: Invoke, text: str, message: str
) -> None:
    _plant(repo, "notify/probe.md.j2", "Alert\n" + text + "\n")
    result = _notify(cli, repo)
    assert result.code == 2, result.err
    assert _error(result).startswith(f"error: templates/notify/probe.md.j2:2: {message}")
    assert "Traceback" not in result.err


def test_an_error_in_an_extended_template_names_that_file(repo: Path, cli: Invoke) -> None:
    _plant(repo, "site/base.html.j2", "<!doctype html>\n{{ page.__class__ }}\n")
    result = _site(cli, repo)
    assert result.code == 2
    assert _error(result).startswith(
        "error: templates/site/base.html.j2:2: refused by the template"
    )


def test_ordinary_repository_templates_still_render(repo: Path, cli: Invoke) -> None:
    """Loops, filters, dict reads, string formatting, modest arithmetic: all still work."""
    _plant(
        repo,
        "notify/probe.md.j2",
        "{{ '-' * 10 }} {{ 2**10 }} {{ '%s/%s'|format(priority, status) }} "
        "{{ '{0} {1}'.format(id[:4], roles.get('on_call', 'nobody')) }}\n"
        "{% for s in services %}{{ s|upper }}{% endfor %} {{ timeline|length }} "
        "{{ timeline[0].kind }} {{ detected_at.year }} {{ range(3)|list|join(',') }}\n",
    )
    result = _notify(cli, repo)
    assert result.code == 0, result.err
    assert result.out.startswith("---------- 1024 P0/DETECTED INC- ")
    assert result.out.splitlines()[1] == "EXAMPLE-SERVICE 1 declared 2026 0,1,2"


def test_a_repository_overrides_the_report(repo: Path, cli: Invoke) -> None:
    _plant(
        repo,
        "report/index.html.j2",
        "<h1>{{ title }}</h1><p>{{ r.overall.count }} incidents; <b>&</b> {{ '<b>' }}</p>\n",
    )
    declare(cli)
    result = _report(cli, repo)
    assert result.code == 0, result.err
    page = (repo / "_report" / "index.html").read_text(encoding="utf-8")
    assert page == "<h1>Incident insights report</h1><p>1 incidents; <b>&</b> &lt;b&gt;</p>"


# -- plain data ---------------------------------------------------------------------------
PLAIN_TYPES = (str, int, float, bool, type(None), date, datetime)


def _not_plain(value: Any, where: str = "") -> list[str]:
    """Where `value` holds something other than plain data (independent of render.context)."""
    if isinstance(value, Markup) or type(value) in PLAIN_TYPES:
        return []
    if type(value) is dict:
        found = [f"{where}: key {k!r}" for k in value if type(k) is not str]
        for k, v in value.items():
            found += _not_plain(v, f"{where}.{k}")
        return found
    if type(value) is list:
        return [f for i, v in enumerate(value) for f in _not_plain(v, f"{where}[{i}]")]
    return [f"{where}: {type(value).__module__}.{type(value).__qualname__}"]


def test_plain_turns_models_dataclasses_and_enums_into_data_and_refuses_the_rest() -> None:
    @dataclasses.dataclass
    class View:
        at: datetime
        priority: Priority
        tags: tuple[str, ...]

        @property
        def secret(self) -> str:
            return "not data"

    at = datetime(2026, 11, 27, 16, 0)
    assert plain(View(at, Priority.P1, ("a",))) == {"at": at, "priority": "P1", "tags": ["a"]}
    assert type(plain(Priority.P1)) is str
    assert type(plain(Markup("<b>x</b>"))) is Markup
    for bad in (Path("/etc/passwd"), timedelta(1), object(), print, {1, 2}, View):
        with pytest.raises(TypeError, match="not plain data"):
            plain({"x": [bad]})


def _walk(name: str, context: dict[str, Any]) -> None:
    found = _not_plain(context, name)
    assert not found, found


def test_every_render_context_is_plain_data(samples: Path) -> None:
    """The notify, PIR, runbook, report and site contexts of every sample, walked value by
    value: only dicts, lists, strings, numbers, booleans, None, dates and Markup."""
    now = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    repo = Repo(samples)
    everyone = [i.incident for i in repo.scan() if not isinstance(i, DocumentErrors)]
    records = []
    for item, policy, state in judged(repo, lambda _: None):
        records.append(Record(item.incident, policy, state, state.root_cause if state else None))
        incident = item.incident
        found = repo.pirs.of(item)
        pir = found[1] if found else None
        runbooks = {n: repo.runbooks.linked(n) for n in incident.runbooks}
        deadlines = timers.schedule(incident, policy, now)
        full = notify_values.context(
            incident, policy, now, pir=pir, deadlines=deadlines, runbooks=runbooks,
            related=everyone,
            template="probe",
        )  # fmt: skip
        _walk(f"notify {incident.id}", full)
        _walk(f"public notify {incident.id}", notify_values.public_context(full))
        linked = [LinkedRunbook(n, b) for n, b in runbooks.items()]
        _walk(
            f"pir {incident.id}",
            pir_context(
                incident, policy=policy, deadlines=deadlines, runbooks=linked,
                facilitator="@me", today=now.date(), incident_path=str(item.path),
            ),
        )  # fmt: skip
        _walk(
            f"runbook {incident.id}",
            new_context(
                name="probe", title=incident.title, owner="@sre", services=incident.services,
                policy=policy, incident=incident, incident_link="../x",
            ),
        )  # fmt: skip
    window = Window(now - timedelta(days=400), now)
    report = compute(records, window, now, policy=repo.policy(), by=("week", "month"))
    _walk("report", report_html.context(report))
    # the site: what pages.Renderer hands every page template (plain_context of its values)
    result = build.BuildResult(samples / "_site")
    incidents, maintenances = build.load(repo, now, result)
    views = component_views(repo.policy().components, incidents, maintenances, now)
    assert incidents
    assert maintenances
    assert views
    page = Page(id="parcelly", name="Parcelly", base_url="https://status.example.com/", now=now)
    site = plain_context(
        {"page": page, "incidents": incidents, "maintenances": maintenances, "views": views}
    )
    _walk("site", site)
    assert "link" not in site["page"]  # a method, not data: not in reach of a template
    assert site["page"]["id"] == "parcelly"  # the stable page id is public data


def test_plain_keeps_enum_values_where_templates_compared_enums() -> None:
    class Color(Enum):
        RED = "red"

    assert plain({"c": Color.RED, Priority.P0: 1}) == {"c": "red", "P0": 1}


def test_a_memo_builds_a_frozen_dataclass_once_and_nothing_else() -> None:
    """A site build hands each incident to several pages: its plain form is built once per
    memo, for the same object only; a mutable dataclass is converted each time."""

    @dataclasses.dataclass(frozen=True)
    class Shown:
        title: str
        tags: tuple[str, ...]

    @dataclasses.dataclass
    class Mutable:
        title: str

    memo: dict[int, tuple[Any, Any]] = {}
    first, twin = Shown("a", ("x",)), Shown("a", ("x",))
    once = plain_context({"inc": first, "all": [first, twin]}, memo)
    assert once["inc"] is once["all"][0]  # the same object: built once
    assert once["all"][1] == once["inc"]
    assert once["all"][1] is not once["inc"]  # an equal object is another object
    assert plain(first, memo) is once["inc"]
    assert plain(first) is not once["inc"]  # without a memo: a new form each time
    changing = Mutable("a")
    shown = plain(changing, memo)
    changing.title = "b"
    assert plain(changing, memo) == {"title": "b"}
    assert shown == {"title": "a"}


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("{{ d.title }}", "T"),
        ("{{ d.get('title') }}", "T"),  # a dict's method still wins over its key
        ("{{ d['items'] }}", "key"),
        ("{{ d.items is defined }}", "True"),
        ("{{ d.missing is defined }}", "False"),
        ("{{ m.title }}", "M"),  # not a plain dict: Jinja's own lookup
    ],
)
def test_attribute_lookup_on_plain_data_is_jinjas(source: str, shown: str) -> None:
    env = templating.Sandbox(undefined=jinja2.StrictUndefined)

    class Mapped(dict[str, str]):
        pass

    values = {"d": {"title": "T", "items": "key"}, "m": Mapped(title="M")}
    assert env.from_string(source).render(values) == shown


def test_a_missing_field_of_plain_data_is_a_strict_error() -> None:
    env = templating.Sandbox(undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError, match="'dict object' has no attribute 'nope'"):
        env.from_string("{{ d.nope }}").render({"d": {"title": "T"}})


def test_an_imported_templates_macros_are_called_and_its_other_names_still_checked() -> None:
    """A macro of an imported template is called directly; a format method or a private name
    it exports goes through Jinja's checks as before."""
    lib = (
        "{% macro when(v) %}<{{ v }}>{% endmacro %}"
        "{% set fmt = '{0.__class__}'.format %}{% set _hidden = 'x' %}{% set plain = 'p' %}"
    )
    env = templating.Sandbox(
        loader=jinja2.DictLoader({"lib": lib}), undefined=jinja2.StrictUndefined
    )

    def shown(source: str) -> str:
        return env.from_string('{% import "lib" as ui %}' + source).render()

    assert shown("{{ ui.when(1) }}{{ ui.plain }}") == "<1>p"
    with pytest.raises(SecurityError):
        shown("{{ ui.fmt(ui) }}")
    with pytest.raises(SecurityError):
        shown("{{ ui.__dict__ }}")
    for missing in ("ui._hidden", "ui.nothing"):  # a name starting with _ is not exported
        with pytest.raises(jinja2.UndefinedError):
            shown("{{ " + missing + " }}")


# -- who may change templates ---------------------------------------------------------------
GUARDED = ("/templates/", "/policies/", "/.github/", "/CODEOWNERS", "/.gitattributes")


@pytest.mark.parametrize("source", ["init", "this repository"])
def test_codeowners_guards_templates_policies_workflows_and_itself(source: str) -> None:
    text = scaffold.files()["CODEOWNERS"] if source == "init" else (ROOT / "CODEOWNERS").read_text()
    owners = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, *who = line.split()
            owners[pattern] = who
    for pattern in GUARDED:
        assert owners.get(pattern), f"{source}: CODEOWNERS does not cover {pattern}"
