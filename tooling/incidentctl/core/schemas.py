"""The JSON Schemas of the front-matter, generated from the models so they cannot drift.

Each schema has a `$id` that names its release: the release workflow attaches the schema
files to the GitHub release of that version, where the `$id` resolves. Check-jsonschema and
the like validate YAML against them; editors do not look inside the front-matter of `.md`
files, so `validate` (the pre-commit hook, the PR check) is what checks them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from incidentctl.core.model import Incident, Maintenance, Pir, Runbook

PROJECT_URL = "https://github.com/parcelly/incidentctl"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

DOCUMENTS: dict[str, type[BaseModel]] = {
    "incident": Incident,
    "pir": Pir,
    "runbook": Runbook,
    "maintenance": Maintenance,
}

WHERE = {
    "incident": "incidents/<YYYY>/<MM>/<ID>/incident.md",
    "pir": "incidents/<YYYY>/<MM>/<ID>/pir.md",
    "runbook": "runbooks/<name>.md",
    "maintenance": "maintenances/<ID>.md",
}


def file_name(document: str) -> str:
    return f"{document}.schema.json"


def schema_id(document: str, version: str) -> str:
    """Where the schema of this version is published (an asset of its GitHub release)."""
    return f"{PROJECT_URL}/releases/download/v{version}/{file_name(document)}"


def json_schema(document: str, version: str) -> dict[str, Any]:
    """The schema of one document's front-matter, `$schema` and `$id` first."""
    body = DOCUMENTS[document].model_json_schema(mode="validation")
    body.pop("title", None)
    return {
        "$schema": DRAFT,
        "$id": schema_id(document, version),
        "title": f"incidentctl {document} front-matter",
        **body,
        "description": f"The front-matter of {WHERE[document]}. {body.get('description', '')}",
    }
