"""The PIR and runbook templates against golden files, rendered from the sample incidents.

Golden files live in tests/golden/documents/. After a deliberate change to a template or a
sample, regenerate them with `.venv/bin/python -m pytest --update-golden
tests/test_document_templates.py`, then read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import NOW, Golden, Invoke

P0_CLOSED = "incidents/2026/11/INC-20261103-4K7Q"


@pytest.fixture
def unreviewed(samples: Path) -> Path:
    """The samples, minus the P0's review (so `pir new` can scaffold it)."""
    (samples / P0_CLOSED / "pir.md").unlink()
    return samples


def test_pir_template_golden(unreviewed: Path, cli: Invoke, golden: Golden) -> None:
    result = cli("pir", "new", "INC-20261103-4K7Q", "--now", NOW, "--facilitator", "@nwright",
                 "--date", "2026-11-04", "--dry-run")  # fmt: skip
    assert result.code == 0, result.err
    golden("documents/pir-INC-20261103-4K7Q.md", result.out)
    assert not (unreviewed / P0_CLOSED / "pir.md").exists()


def test_runbook_template_golden(samples: Path, cli: Invoke, golden: Golden) -> None:
    result = cli("runbook", "new", "checkout-config", "--from-incident", "INC-20261103-4K7Q",
                 "--dry-run")  # fmt: skip
    assert result.code == 0, result.err
    golden("documents/runbook-checkout-config.md", result.out)
    assert not (samples / "runbooks/checkout-config.md").exists()
