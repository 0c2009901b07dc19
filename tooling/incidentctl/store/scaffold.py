"""What `incidentctl init` lays down in a new incident repository."""

from __future__ import annotations

from importlib import resources

from incidentctl import __version__
from incidentctl.core.notifications import NOTIFICATIONS_FILE
from incidentctl.core.policy import POLICY_FILES, default_text

WORKFLOWS = ("validate", "reminders", "sync", "pages", "watch", "intake", "commands")
_VERSION_MARK = "@VERSION@"  # the scaffolded workflows install this release from PyPI


def _scaffold(name: str) -> str:
    return (resources.files("incidentctl") / "defaults" / "scaffold" / name).read_text(
        encoding="utf-8"
    )


def files() -> dict[str, str]:
    """Repository-relative path -> content, for every file of a new repository."""
    out: dict[str, str] = {}
    for name in POLICY_FILES:
        text = _scaffold("components.yaml") if name == "components" else default_text(name)
        out[f"policies/{name}.yaml"] = text
    out[f"policies/{NOTIFICATIONS_FILE}.yaml"] = default_text(NOTIFICATIONS_FILE)  # read live
    out["incidents/.gitkeep"] = ""
    out["runbooks/example-service-5xx.md"] = _scaffold("runbook-example.md")
    out["CODEOWNERS"] = _scaffold("CODEOWNERS")
    out["README.md"] = _scaffold("README.md")
    out[".gitattributes"] = _scaffold("gitattributes")  # the merge driver for incident files
    for name in WORKFLOWS:
        text = _scaffold(f"workflows/{name}.yml").replace(_VERSION_MARK, __version__)
        out[f".github/workflows/{name}.yml"] = text
    return out
