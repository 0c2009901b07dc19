"""The front-matter JSON Schemas: complete descriptions, an `$id` each, and the samples valid
against them the way check-jsonschema checks a file (jsonschema, Draft 2020-12)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from incidentctl import __version__
from incidentctl.core import schemas
from incidentctl.core.documents import parse
from tests.conftest import ROOT, Invoke


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property of the document and of every model it refers to ($defs)."""
    for owner in [schema, *schema.get("$defs", {}).values()]:
        for name, prop in owner.get("properties", {}).items():
            yield f"{owner.get('title', 'top')}.{name}", prop


@pytest.mark.parametrize("document", list(schemas.DOCUMENTS))
def test_every_property_has_a_description_and_the_schema_an_id(cli: Invoke, document: str) -> None:
    result = cli("schema", "--document", document)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["$id"] == (
        f"https://github.com/parcelly/incidentctl/releases/download/v{__version__}/"
        f"{document}.schema.json"
    )
    assert data["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(data)
    props = dict(_properties(data))
    assert len(props) > 5
    missing = [name for name, prop in props.items() if not prop.get("description")]
    assert missing == []


def _samples() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "incidents").glob("*/*/*/incident.md")):
        yield "incident", path
    for path in sorted((ROOT / "incidents").glob("*/*/*/pir.md")):
        yield "pir", path
    for path in sorted((ROOT / "runbooks").glob("*.md")):
        yield "runbook", path
    for path in sorted((ROOT / "maintenances").glob("*.md")):
        yield "maintenance", path


def test_the_samples_front_matter_is_valid_against_the_schemas() -> None:
    found = list(_samples())
    assert {kind for kind, _ in found} == set(schemas.DOCUMENTS)
    validators = {
        kind: jsonschema.Draft202012Validator(
            schemas.json_schema(kind, __version__),
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        for kind in schemas.DOCUMENTS
    }
    for kind, path in found:
        data = parse(path, path.read_bytes()).data
        errors = [
            f"{'.'.join(map(str, e.path))}: {e.message}" for e in validators[kind].iter_errors(data)
        ]
        assert errors == [], f"{path.relative_to(ROOT)}: {errors}"


def test_what_init_writes_is_valid_against_the_schemas(repo: Path) -> None:
    """The example runbook of a new repository passes the schema as it passes validate."""
    validator = jsonschema.Draft202012Validator(schemas.json_schema("runbook", __version__))
    runbooks = sorted((repo / "runbooks").glob("*.md"))
    assert runbooks
    for path in runbooks:
        assert list(validator.iter_errors(parse(path, path.read_bytes()).data)) == []


def test_the_schemas_reject_what_validate_rejects() -> None:
    """The schemas are not a blank cheque: an unknown key and a bad enum value fail."""
    path = next(p for kind, p in _samples() if kind == "maintenance")
    data = parse(path, path.read_bytes()).data
    validator = jsonschema.Draft202012Validator(schemas.json_schema("maintenance", __version__))
    assert list(validator.iter_errors(data)) == []
    bad = {**data, "scheduled_untill": data["scheduled_until"]}
    assert [e.validator for e in validator.iter_errors(bad)] == ["additionalProperties"]
    incident = jsonschema.Draft202012Validator(schemas.json_schema("incident", __version__))
    sample = next(p for kind, p in _samples() if kind == "incident")
    wrong = {**parse(sample, sample.read_bytes()).data, "priority": "P9"}
    assert [list(e.path) for e in incident.iter_errors(wrong)] == [["priority"]]


def test_schema_out_writes_every_schema_as_a_file(cli: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = cli("schema", "--out", str(out))
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{d}.schema.json" for d in schemas.DOCUMENTS
    )
    for document in schemas.DOCUMENTS:
        written = json.loads((out / f"{document}.schema.json").read_text(encoding="utf-8"))
        assert written == json.loads(cli("schema", "--document", document).out)


def test_schema_out_onto_a_file_is_a_usage_error(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x", encoding="utf-8")
    result = cli("schema", "--out", str(target))
    assert result.code == 2
    assert "Traceback" not in result.err


def test_the_pre_commit_hook_covers_every_kind_of_document() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["entry"] == "incidentctl validate"
    import re

    pattern = re.compile(hook["files"])
    for rel in (
        "incidents/2026/11/INC-1/incident.md",
        "runbooks/checkout-5xx.md",
        "maintenances/MNT-20261206-PG17.md",
        "policies/sla.yaml",
        "templates/incident.md",
    ):
        assert pattern.search(rel), rel
    assert not pattern.search("docs/architecture.md")
