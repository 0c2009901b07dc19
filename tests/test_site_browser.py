"""The built status site in a real browser (headless Chromium driven by Playwright).

Served over HTTP on 127.0.0.1 under a project path (/status/), as GitHub Pages serves a
project site, so a root-absolute link would break here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import pytest

from incidentctl.cli.app import run
from tests.conftest import NOW, Invoke
from tests.site_helpers import ROOT

ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Callable[..., Any]]:
    """New pages that record console errors, page errors and dialogs."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, java_script_enabled=True)
        contexts.append(context)
        page = context.new_page()
        page.problems = []  # console errors and uncaught exceptions
        page.dialogs = []
        page.on(
            "console",
            lambda msg: page.problems.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: page.problems.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    yield make
    for context in contexts:
        context.close()


def _published(tmp_path: Path, serve: Callable[[Path], str], repo: Path) -> str:
    """Build `repo` into <tmp>/pub/status/ and serve <tmp>/pub: the site's base URL."""
    out = tmp_path / "pub" / "status"
    code = run(["--repo", str(repo), "site", "build", "--out", str(out), "--now", NOW,
                "--name", "Parcelly"])  # fmt: skip
    assert code == 0
    return serve(tmp_path / "pub") + "status/"


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_sample_site_in_a_browser(
    tmp_path: Path,
    samples: Path,
    serve: Callable[[Path], str],
    page_factory: Callable[..., Any],
) -> None:
    base = _published(tmp_path, serve, samples)
    page = page_factory()
    page.goto(base + "index.html")
    banner = page.locator("section.banner h2")
    # from the components (at worst degraded), not from the open P1's priority
    assert banner.inner_text().strip().endswith("Partially Degraded Service")
    active = page.locator("section[aria-labelledby=active-h] article h3")
    assert active.all_inner_texts() == [
        "Bulk label creation through the Public API times out for large batches",
        "Tracking updates delayed by up to 75 minutes",
    ]
    tracking = page.locator("#component-tracking")
    assert "Degraded performance" in tracking.locator(".component-head").inner_text()
    assert "Operational" in page.locator("#component-checkout .component-head").inner_text()
    assert page.locator("#component-checkout rect").count() == 90
    titles = page.locator("#component-checkout rect title").all_text_contents()
    assert any("Checkout down after checkout-api release" in t for t in titles)
    assert page.locator("header").count() == 1
    assert page.locator("main").count() == 1
    assert page.locator("footer").count() == 1
    assert page.locator("h1").count() == 1
    assert "PostgreSQL 17 upgrade" in page.locator("section[aria-labelledby=maint-h]").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-desktop.png"), full_page=True)
    mobile = page_factory(MOBILE)
    mobile.goto(base + "index.html")
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"]  # no horizontal scrolling on a phone
    mobile.screenshot(path=str(ARTIFACTS / "site-mobile.png"), full_page=True)
    mobile.goto(base + "incidents/INC-20261103-4K7Q.html")
    mobile.screenshot(path=str(ARTIFACTS / "site-incident-mobile.png"), full_page=True)
    assert "Post-incident review" in mobile.locator("main").inner_text()

    page.goto(base + "history/index.html")
    months = page.locator("main .months li a").all_inner_texts()
    assert months[:2] == ["November 2026", "October 2026"]
    page.locator("main .months li a", has_text="November 2026").click()
    rows = page.locator("main .incident-list li a").all_inner_texts()
    assert "Checkout down after checkout-api release 2026.11.03-1" in rows
    assert "Leaked merchant API key used to read recipient addresses" not in rows
    page.locator("nav.pager a", has_text="Older").click()
    assert page.url.endswith("history/2026-10.html")
    assert page.problems == []
    assert mobile.problems == []
    assert page.dialogs == []


def test_every_link_resolves(
    tmp_path: Path,
    samples: Path,
    serve: Callable[[Path], str],
    page_factory: Callable[..., Any],
) -> None:
    base = _published(tmp_path, serve, samples)
    page = page_factory()
    queue, seen, checked = [base + "index.html"], set(), 0
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        page.goto(url)
        assert page.problems == [], url
        hrefs = page.eval_on_selector_all(
            "a[href], link[href]", "els => els.map(e => e.getAttribute('href'))"
        )
        for href in hrefs:
            if href.startswith("data:"):
                continue
            target, fragment = urldefrag(urljoin(url, href))
            assert target.startswith(base), (url, href)  # relative, inside the site
            status, body = _fetch(target)
            checked += 1
            assert status == 200, (url, href)
            if fragment:
                assert f'id="{fragment}"' in body, (url, href)
            if target.endswith(".html") and target not in seen:
                queue.append(target)
    assert checked > 100
    for rel in ("api/v2/summary.json", "api/v2/incidents.json", "api/v2/components.json"):
        status, body = _fetch(base + rel)
        assert status == 200
        json.loads(body)


PAYLOADS = [
    "<script>window.__pwned=1;alert('script')</script>",
    "<img src=x onerror=\"window.__pwned=1;alert('img')\">",
    "[click me](javascript:window.__pwned=1;alert('link'))",
    "<a href=\"javascript:alert('a')\">a link</a>",
    "<svg onload=\"window.__pwned=1;alert('svg')\"></svg>",
    "\"><script>alert('quote')</script><p title=\"",
    "' onmouseover='alert(1)' data-x='",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
]
TITLE = "\"><script>alert('t')</script><img src=x onerror=alert('t')> ' onfocus='alert(1)"


def test_hostile_text_renders_as_text_and_never_runs(
    cli: Invoke,
    repo: Path,
    tmp_path: Path,
    serve: Callable[[Path], str],
    page_factory: Callable[..., Any],
) -> None:
    (repo / "policies" / "components.yaml").write_text(
        "components:\n"
        "  - id: web\n"
        '    name: \'<img src=x onerror=alert("c")> Web "app"\'\n'
        "    group: '<script>alert(\"g\")</script>'\n"
        "    description: '<svg onload=alert(1)>'\n"
        "    services: [example-service]\n",
        encoding="utf-8",
    )
    result = cli(
        "declare", "--title", TITLE, "--impact", "high", "--urgency", "high",
        "--services", "example-service", "--at", "2026-11-27T15:00:00Z", "--now", NOW,
    )  # fmt: skip
    assert result.code == 0, result.err
    incident_id = result.out.strip()
    for minute, payload in enumerate(PAYLOADS):
        result = cli(
            "update", incident_id, "-m", payload, "--public", "--status", "investigating",
            "--at", f"2026-11-27T15:{10 + minute:02d}:00Z", "--now", NOW,
        )  # fmt: skip
        assert result.code == 0, result.err
    base = _published(tmp_path, serve, repo)
    for rel in ("index.html", f"incidents/{incident_id}.html", "history/2026-11.html"):
        page = page_factory()
        page.goto(base + rel)
        page.mouse.move(10, 10)
        for link in page.locator("main a").all():
            link.hover()
        page.wait_for_timeout(100)
        assert page.dialogs == [], rel
        assert page.evaluate("window.__pwned === undefined"), rel
        assert page.evaluate("document.scripts.length") == 0, rel
        assert page.evaluate("document.querySelectorAll('iframe, svg[onload], img').length") == 0
        handlers = page.evaluate(
            "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
            ".filter(a => a.name.startsWith('on')).map(a => a.name))"
        )
        assert handlers == [], rel
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        assert not [h for h in hrefs if h.lower().startswith("javascript:")], rel
        assert page.problems == [], rel
    page = page_factory()
    page.goto(base + f"incidents/{incident_id}.html")
    assert page.locator("h1").inner_text() == TITLE
    text = page.locator("main").inner_text()
    assert "<script>window.__pwned=1;alert('script')</script>" in text
    assert "<svg onload=" in text
    page.goto(base + "index.html")
    assert '<img src=x onerror=alert("c")> Web "app"' in page.locator("main").inner_text()
    assert page.dialogs == []
