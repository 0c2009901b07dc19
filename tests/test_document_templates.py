"""The PIR and runbook templates against golden files, rendered from the sample incidents.

Golden files live in tests/golden/documents/. After a deliberate change to a template or a
sample, regenerate them with `UPDATE_GOLDEN=1 .venv/bin/python -m pytest
tests/test_document_templates.py`, then read the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import NOW, Invoke

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "documents"
P0_CLOSED = "incidents/2026/11/INC-20261103-4K7Q"


@pytest.fixture
def samples(repo: Path) -> Path:
    """The sample repository's incidents, runbooks and policies, minus the P0's review."""
    for name in ("incidents", "runbooks", "policies"):
        shutil.rmtree(repo / name, ignore_errors=True)
        shutil.copytree(ROOT / name, repo / name)
    (repo / P0_CLOSED / "pir.md").unlink()
    return repo


def _matches_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_pir_template_golden(samples: Path, cli: Invoke) -> None:
    result = cli("pir", "new", "INC-20261103-4K7Q", "--now", NOW, "--facilitator", "@nwright",
                 "--date", "2026-11-04", "--dry-run")  # fmt: skip
    assert result.code == 0, result.err
    _matches_golden("pir-INC-20261103-4K7Q.md", result.out)
    assert not (samples / P0_CLOSED / "pir.md").exists()


def test_runbook_template_golden(samples: Path, cli: Invoke) -> None:
    result = cli("runbook", "new", "checkout-config", "--from-incident", "INC-20261103-4K7Q",
                 "--dry-run")  # fmt: skip
    assert result.code == 0, result.err
    _matches_golden("runbook-checkout-config.md", result.out)
    assert not (samples / "runbooks/checkout-config.md").exists()
