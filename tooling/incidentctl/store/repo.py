"""The only module that reads and writes the repository's files.

Layout: incidents/<YYYY>/<MM>/<ID>/incident.md (partitioned by detection month, so no folder
holds more than ~1,000 entries at 10,000 incidents), runbooks/<name>.md, policies/*.yaml,
and policies/snapshots/<hash>.json: the effective policy each incident was declared under.
"""

from __future__ import annotations

import gc
import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from incidentctl.core.diagnostics import explain
from incidentctl.core.documents import Document, Loaded, decode, line_in_yaml, load_yaml, parse
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.core.model import (
    BusinessImpact,
    Incident,
    Maintenance,
    Pir,
    Roles,
    Runbook,
    valid_id,
)
from incidentctl.core.policy import POLICY_FILES, Policy, assemble, default_text, merge
from incidentctl.store import cache as parsecache
from incidentctl.store import edits as editing
from incidentctl.store.cache import ParseCache

_M = TypeVar("_M", bound=BaseModel)
INCIDENT_FILE = "incident.md"
PIR_FILE = "pir.md"
_ID_LINE = re.compile(r"""^id:[ \t]*["']?([^\s"'#]+)""", re.MULTILINE)
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_SECTION_FILE = {
    "matrix": "priority",
    "sla": "sla",
    "escalation": "escalation",
    "components": "components",
    "review": "review",
}


def write_atomic(path: Path, content: str | bytes, *, durable: bool = True) -> None:
    """Write via a temp file in the same folder and rename: never a half-written file.

    `durable=False` skips the fsync, for output rebuilt from the repository at will (the
    status site), where an fsync per page would dominate a 10,000-page build."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def locate_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder (upwards) holding incidents/ or policies/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "incidents").is_dir() or (folder / "policies").is_dir():
            return folder
    raise IncidentctlError(
        f"{here} is not inside an incident repository (no incidents/ or policies/ folder)",
        hint="run `incidentctl init` to create one, or pass --repo DIR",
    )


def new_id(at: datetime, taken: set[str] | None = None) -> str:
    """INC-YYYYMMDD-XXXX: 32^4 suffixes a day make a clash between branches improbable."""
    taken = taken or set()
    while True:
        suffix = "".join(secrets.choice(_ID_ALPHABET) for _ in range(4))
        candidate = f"INC-{at:%Y%m%d}-{suffix}"
        if candidate not in taken:
            return candidate


def relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class Repo:
    """An incident repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._policy: Policy | None = None
        self._digest: str | None = None
        self._snapshots: dict[str, Policy] = {}
        # told (done, total) now and then during a bulk load; the CLI sets it on a terminal
        self.progress: Callable[[int, int], None] | None = None
        self._cache: ParseCache | None = None

    # -- the parse cache ---------------------------------------------------------------------
    def parsed(self, path: Path) -> Document:
        """Read and split a document; its front-matter from the parse cache when the bytes
        are the same as last time, else from the YAML parser (and remembered)."""
        if self._cache is None:
            self._cache = ParseCache(self.root)
        raw = path.read_bytes()
        rel = self.rel(path)
        if not self._cache.enabled:
            return parse(Path(rel), raw)
        key = parsecache.digest(raw)
        known = self._cache.get(rel, key)
        doc = parse(Path(rel), raw, data=known)
        if known is None:
            self._cache.put(rel, key, doc.data)
        return doc

    def save_cache(self, *, prune: bool = False) -> None:
        """Keep what this run parsed for the next one (call after bulk loads)."""
        if self._cache is not None:
            self._cache.save(prune=self.root if prune else None)

    # -- paths -------------------------------------------------------------------------
    @property
    def incidents_dir(self) -> Path:
        return self.root / "incidents"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def runbooks_dir(self) -> Path:
        return self.root / "runbooks"

    def rel(self, path: Path) -> str:
        return relative(self.root, path)

    def incident_path(self, incident_id: str, detected_at: datetime) -> Path:
        if not valid_id(incident_id):
            raise IncidentctlError(
                f"{incident_id!r} is not a valid incident ID",
                hint="use letters, digits, '-' and '_' only, starting with a letter",
            )
        month = f"{detected_at:%Y}/{detected_at:%m}"
        return self.incidents_dir / month / incident_id / INCIDENT_FILE

    def incident_files(self) -> list[Path]:
        """Every incident.md under incidents/, in a stable order."""
        found: list[Path] = []
        if not self.incidents_dir.is_dir():
            return found
        for folder, dirs, files in os.walk(self.incidents_dir):
            dirs.sort()
            if INCIDENT_FILE in files:
                found.append(Path(folder) / INCIDENT_FILE)
        return found

    # -- policy --------------------------------------------------------------------------
    def policy_sections(self) -> dict[str, tuple[Path, str, Any]]:
        """Each policy file: (path shown in errors, text, merged data)."""
        sections: dict[str, tuple[Path, str, Any]] = {}
        for name in POLICY_FILES:
            default = default_text(name)
            base = load_yaml(Path(f"<default {name}.yaml>"), default) or {}
            path = self.policies_dir / f"{name}.yaml"
            if path.is_file():
                shown = Path(self.rel(path))
                text, _, _ = decode(shown, path.read_bytes())
                data = load_yaml(shown, text)
                if data is None:
                    data = {}
                if not isinstance(data, dict):
                    raise DocumentError(shown, "a policy file must be a mapping", line=1)
                sections[name] = (shown, text, merge(base, data))
            else:
                sections[name] = (Path(f"<default policies/{name}.yaml>"), default, base)
        return sections

    def policy(self) -> Policy:
        """The policy in force now: repo files merged over the shipped defaults."""
        if self._policy is None:
            sections = self.policy_sections()
            try:
                self._policy = Policy.model_validate(
                    assemble({name: data for name, (_, _, data) in sections.items()})
                )
            except ValidationError as exc:
                raise DocumentErrors(_policy_errors(exc, sections)) from None
        return self._policy

    def policy_digest(self) -> str:
        """The current policy's hash, computed once (it is compared per incident)."""
        if self._digest is None:
            self._digest = self.policy().digest()
        return self._digest

    def snapshot_path(self, digest: str) -> Path:
        return self.policies_dir / "snapshots" / (digest.replace(":", "-") + ".json")

    def save_policy_snapshot(self, policy: Policy) -> Path:
        path = self.snapshot_path(policy.digest())
        if not path.exists():
            write_atomic(path, json.dumps(json.loads(policy.canonical()), indent=1) + "\n")
        return path

    def policy_for(self, incident: Incident) -> Policy:
        """The policy in force when the incident was declared, else the current one."""
        if not incident.policy or incident.policy == self.policy_digest():
            return self.policy()
        if incident.policy not in self._snapshots:
            path = self.snapshot_path(incident.policy)
            if not path.is_file():
                return self.policy()
            self._snapshots[incident.policy] = Policy.model_validate_json(path.read_bytes())
        return self._snapshots[incident.policy]

    def has_snapshot(self, digest: str) -> bool:
        if digest == self.policy_digest():
            return True
        if digest not in self._snapshots:
            if not self.snapshot_path(digest).is_file():
                return False
            self._snapshots[digest] = Policy.model_validate_json(
                self.snapshot_path(digest).read_bytes()
            )
        return True

    # -- incidents -----------------------------------------------------------------------
    def load(self, path: Path) -> Loaded:
        """Parse and validate one incident file; DocumentErrors lists every problem."""
        doc = parse(Path(self.rel(path)), path.read_bytes())
        return Loaded(doc=doc, incident=validate_incident(doc))

    def scan(self, paths: list[Path] | None = None) -> Iterator[Loaded | DocumentErrors]:
        """Load many incidents fast: the collector is paused during the bulk load, and the
        front-matter of a file whose bytes did not change since the last scan comes from the
        parse cache instead of the YAML parser."""
        enabled = gc.isenabled()
        gc.disable()
        try:
            files = paths if paths is not None else self.incident_files()
            for done, path in enumerate(files, start=1):
                if self.progress is not None and (done % 250 == 0 or done == len(files)):
                    self.progress(done, len(files))
                try:
                    doc = self.parsed(path)
                    loaded = Loaded(doc=doc, incident=validate_incident(doc))
                    loaded.doc.data = {}  # the model holds it now; keep bulk loads lean
                    yield loaded
                except DocumentErrors as exc:
                    yield exc
                except DocumentError as exc:
                    yield DocumentErrors([exc])
            self.save_cache(prune=paths is None)
        finally:
            if enabled:
                gc.enable()

    def find(self, incident_id: str) -> Loaded:
        if not valid_id(incident_id):
            raise IncidentctlError(
                f"{incident_id!r} is not a valid incident ID",
                hint="IDs look like INC-20261127-7K3Q; `incidentctl list` shows them",
            )
        matches = sorted(self.incidents_dir.glob(f"*/*/{incident_id}/{INCIDENT_FILE}"))
        if not matches:
            matches = [p for p in self.incident_files() if p.parent.name == incident_id]
        if not matches:
            raise IncidentctlError(
                f"no incident {incident_id} in {self.rel(self.incidents_dir)}/",
                hint="`incidentctl list` shows the incidents this repository holds",
            )
        if len(matches) > 1:
            where = ", ".join(self.rel(p) for p in matches)
            raise IncidentctlError(f"incident ID {incident_id} is used twice: {where}")
        loaded = self.load(matches[0])
        return loaded

    def quick_ids(self, paths: list[Path]) -> dict[str, str]:
        """ID -> path for files not worth parsing in full: the top-level `id:` line."""
        out: dict[str, str] = {}
        for path in paths:
            try:
                head = path.read_bytes()[:4096].decode("utf-8", "replace")
            except OSError:
                continue
            match = _ID_LINE.search(head)
            out[match.group(1) if match else path.parent.name] = self.rel(path)
        return out

    def known_ids(self) -> set[str]:
        return {p.parent.name for p in self.incident_files()}

    def create(self, incident: Incident, body: str, *, dry_run: bool = False) -> tuple[Path, str]:
        """Write a new incident file; refuses to overwrite an existing one."""
        path = self.incident_path(incident.id, incident.detected_at)
        if path.exists() or incident.id in self.known_ids():
            raise IncidentctlError(
                f"incident {incident.id} already exists",
                hint="choose another --id, or omit --id to get a fresh one",
            )
        text = "---\n" + new_front(incident) + "---\n" + body
        if not dry_run:
            write_atomic(path, text)
        return path, text

    def save(self, loaded: Loaded, updated: Incident, *, dry_run: bool = False) -> str:
        """Apply the difference between two versions as minimal edits, verify, write."""
        front = loaded.doc.front
        old = _plain(loaded.incident)
        new = _plain(updated)
        for key in [name for name in Incident.model_fields if name in new.keys() | old.keys()]:
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            if key not in new:  # back to its default value: write the default explicitly
                after = updated.model_dump(mode="json", include={key})[key]
            if (
                isinstance(before, list)
                and isinstance(after, list)
                and before
                and after[: len(before)] == before
            ):
                for item in after[len(before) :]:
                    front = editing.append_item(front, key, item)
            else:
                front = editing.set_key(front, key, after)
        doc = Document(
            path=loaded.doc.path,
            data={},
            front=front,
            body=loaded.doc.body,
            bom=loaded.doc.bom,
            crlf=loaded.doc.crlf,
        )
        reparsed = parse(doc.path, doc.text().encode("utf-8"))
        if validate_incident(reparsed) != updated:
            raise RuntimeError(f"edit of {doc.path} did not round-trip; nothing was written")
        text = doc.text()
        if not dry_run:
            write_atomic(self.root / loaded.doc.path, text)
        return text

    # -- post-incident reviews -------------------------------------------------------------
    def pir_path(self, loaded: Loaded) -> Path:
        """pir.md lives beside the incident's incident.md."""
        return self.root / loaded.path.parent / PIR_FILE

    def pir_files(self) -> list[Path]:
        if not self.incidents_dir.is_dir():
            return []
        return sorted(self.incidents_dir.glob(f"*/*/*/{PIR_FILE}"))

    def load_pir(self, path: Path) -> tuple[Document, Pir]:
        """Parse and validate one pir.md; DocumentErrors lists every problem."""
        doc = self.parsed(path)
        return doc, validated(Pir, doc)

    def pir_front(self, loaded: Loaded) -> dict[str, Any] | None:
        """The front-matter of the incident's PIR as data, unvalidated (the timers read it
        loosely); None when there is none. Raises DocumentError when it cannot be parsed."""
        path = self.pir_path(loaded)
        return self.parsed(path).data if path.is_file() else None

    def pir_of(self, loaded: Loaded) -> tuple[Document, Pir] | None:
        """The incident's PIR, or None when it has none yet."""
        path = self.pir_path(loaded)
        return self.load_pir(path) if path.is_file() else None

    def public_pir(self, loaded: Loaded) -> Pir | None:
        """The incident's PIR if it may hold a public summary; the others are not parsed (a
        byte search is ~100x cheaper than the YAML parse, which dominates a site build)."""
        path = self.pir_path(loaded)
        if not path.is_file():
            return None
        raw = path.read_bytes()
        if b"public_summary" not in raw:
            return None
        return validated(Pir, parse(Path(self.rel(path)), raw))

    def create_pir(self, loaded: Loaded, text: str, *, dry_run: bool = False) -> Path:
        """Write a new pir.md; refuses to overwrite one (a PIR holds people's analysis)."""
        path = self.pir_path(loaded)
        if path.exists():
            raise IncidentctlError(
                f"{self.rel(path)} already exists",
                hint="edit it, or `incidentctl pir check " + loaded.incident.id + "`",
            )
        validated(Pir, parse(Path(self.rel(path)), text.encode("utf-8")))
        if not dry_run:
            write_atomic(path, text)
        return path

    def save_pir(self, doc: Document, *, dry_run: bool = False) -> str:
        """Write an edited pir.md after checking that it still parses and validates."""
        text = doc.text()
        validated(Pir, parse(doc.path, text.encode("utf-8")))
        if not dry_run:
            write_atomic(self.root / doc.path, text)
        return text

    # -- runbooks ------------------------------------------------------------------------
    def runbook_files(self) -> list[Path]:
        if not self.runbooks_dir.is_dir():
            return []
        return sorted(p for p in self.runbooks_dir.glob("*.md") if p.name.lower() != "readme.md")

    def load_runbook(self, path: Path) -> tuple[Document, Runbook]:
        doc = self.parsed(path)
        return doc, validated(Runbook, doc)

    def runbook_names(self) -> set[str]:
        return {p.stem for p in self.runbook_files()}

    def runbook_path(self, name: str) -> Path:
        """runbooks/NAME.md; NAME is a slug, so it can never point outside runbooks/."""
        if not Runbook.valid_name(name) or name == "readme":
            raise IncidentctlError(
                f"{name!r} is not a valid runbook name",
                hint="use lowercase letters, digits and '-', e.g. checkout-5xx "
                "(it becomes runbooks/NAME.md and the name incidents link to)",
            )
        return self.runbooks_dir / f"{name}.md"

    def find_runbook(self, name: str) -> tuple[Document, Runbook]:
        """Load runbook NAME; an unknown name is an error with the closest existing one."""
        import difflib

        path = self.runbooks_dir / f"{name}.md" if Runbook.valid_name(name) else None
        if path is None or not path.is_file():
            close = difflib.get_close_matches(name.lower(), sorted(self.runbook_names()), n=1)
            raise IncidentctlError(
                f"no runbook {name!r} in {self.rel(self.runbooks_dir)}/",
                hint=f"did you mean '{close[0]}'?"
                if close
                else "`incidentctl runbook list` shows the runbooks; "
                "`incidentctl runbook new` creates one",
            )
        return self.load_runbook(path)

    def create_runbook(self, name: str, text: str, *, dry_run: bool = False) -> Path:
        """Write a new runbook after checking its front-matter; never overwrites one."""
        path = self.runbook_path(name)
        taken = {n.lower() for n in self.runbook_names()}
        if path.exists() or name in taken:
            raise IncidentctlError(
                f"{self.rel(path)} already exists",
                hint="edit it, or choose another name",
            )
        validated(Runbook, parse(Path(self.rel(path)), text.encode("utf-8")))
        if not dry_run:
            write_atomic(path, text)
        return path

    def save_runbook(
        self, doc: Document, before: Runbook, after: Runbook, *, dry_run: bool = False
    ) -> str:
        """Apply the difference as minimal edits (like `save`), verify by re-parsing, write."""
        front = doc.front
        old = before.model_dump(mode="json", exclude_none=True)
        new = after.model_dump(mode="json", exclude_none=True)
        for key in Runbook.model_fields:
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if isinstance(was, list) and isinstance(now, list) and was and now[: len(was)] == was:
                for item in now[len(was) :]:
                    front = editing.append_item(front, key, item)
            else:
                front = editing.set_key(front, key, now)
        edited = Document(
            path=doc.path, data={}, front=front, body=doc.body, bom=doc.bom, crlf=doc.crlf
        )
        text = edited.text()
        reparsed = parse(doc.path, text.encode("utf-8"))
        if validated(Runbook, reparsed) != after:
            raise RuntimeError(f"edit of {doc.path} did not round-trip; nothing was written")
        if not dry_run:
            write_atomic(self.root / doc.path, text)
        return text

    # -- maintenances --------------------------------------------------------------------
    @property
    def maintenances_dir(self) -> Path:
        return self.root / "maintenances"

    def maintenance_files(self) -> list[Path]:
        """maintenances/<ID>.md, in a stable order (README.md is documentation)."""
        if not self.maintenances_dir.is_dir():
            return []
        return sorted(
            p for p in self.maintenances_dir.glob("*.md") if p.name.lower() != "readme.md"
        )

    def maintenance_path(self, maintenance_id: str) -> Path:
        from incidentctl.core.model import MAINTENANCE_ID_PATTERN

        if not re.fullmatch(MAINTENANCE_ID_PATTERN, maintenance_id):
            raise IncidentctlError(
                f"{maintenance_id!r} is not a valid maintenance ID",
                hint="IDs look like MNT-20261201-7K3Q: letters, digits, '-' and '_' only",
            )
        return self.maintenances_dir / f"{maintenance_id}.md"

    def find_maintenance(self, maintenance_id: str) -> tuple[Document, Maintenance]:
        """One maintenance by ID; an unknown ID names the closest known one."""
        path = self.maintenance_path(maintenance_id)
        if not path.is_file():
            import difflib

            known = [p.stem for p in self.maintenance_files()]
            close = difflib.get_close_matches(maintenance_id, known, n=1)
            raise IncidentctlError(
                f"no maintenance {maintenance_id} in maintenances/",
                hint=f"did you mean {close[0]}?"
                if close
                else "`incidentctl maintenance list` shows them",
            )
        return self.load_maintenance(path)

    def save_maintenance(self, doc: Document, *, dry_run: bool = False) -> str:
        """Write an edited maintenance file after checking that it still parses and validates."""
        text = doc.text()
        validated(Maintenance, parse(doc.path, text.encode("utf-8")))
        if not dry_run:
            write_atomic(self.root / doc.path, text)
        return text

    def load_maintenance(self, path: Path) -> tuple[Document, Maintenance]:
        """Parse and validate one maintenance file; DocumentErrors lists every problem."""
        doc = self.parsed(path)
        return doc, validated(Maintenance, doc)

    def scan_maintenances(self) -> Iterator[tuple[Document, Maintenance] | DocumentErrors]:
        for path in self.maintenance_files():
            try:
                yield self.load_maintenance(path)
            except DocumentErrors as exc:
                yield exc
            except DocumentError as exc:
                yield DocumentErrors([exc])

    def create_maintenance(
        self, maintenance: Maintenance, body: str, *, dry_run: bool = False
    ) -> tuple[Path, str]:
        """Write a new maintenance file after checking it re-parses; never overwrites one."""
        from incidentctl.core.documents import dump_block

        path = self.maintenance_path(maintenance.id)
        if path.exists():
            raise IncidentctlError(
                f"{self.rel(path)} already exists",
                hint="choose another --id, or omit --id to get a fresh one",
            )
        data = maintenance.model_dump(mode="json", exclude_none=True)
        if not data.get("updates"):
            data.pop("updates", None)
        text = "---\n" + dump_block(data, 0) + "---\n" + body
        doc = parse(Path(self.rel(path)), text.encode("utf-8"))
        if validated(Maintenance, doc) != maintenance:
            raise RuntimeError(f"{doc.path} did not round-trip; nothing was written")
        if not dry_run:
            write_atomic(path, text)
        return path, text


def validated(model: type[_M], doc: Document) -> _M:
    """The document's front-matter as `model`; every schema problem located in the file."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise DocumentErrors(explain(exc, model, doc.path, doc.line_of)) from None


def validate_incident(doc: Document) -> Incident:
    return validated(Incident, doc)


def _plain(incident: Incident) -> dict[str, Any]:
    """JSON-able fields as a file would hold them: no nulls, no defaulted keys."""
    data: dict[str, Any] = incident.model_dump(
        mode="json", exclude_none=True, exclude_defaults=True
    )
    return data


def new_front(incident: Incident) -> str:
    """Front-matter for a new incident: every field present (null until known), so the
    file doubles as a checklist and later edits replace values in place."""
    from incidentctl.core.documents import dump_block

    data = incident.model_dump(mode="json")
    data["timeline"] = [
        e.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        for e in incident.timeline
    ]
    data["escalations"] = [
        e.model_dump(mode="json", exclude_none=True) for e in incident.escalations
    ]
    if incident.priority_override is None:
        del data["priority_override"]
    else:
        data["priority_override"] = incident.priority_override.model_dump(
            mode="json", exclude_none=True
        )
    for name, model in (("roles", Roles), ("business_impact", BusinessImpact)):
        if data.get(name) is None:
            data[name] = dict.fromkeys(model.model_fields)
    return dump_block(data, 0)


def _policy_errors(
    exc: ValidationError, sections: dict[str, tuple[Path, str, Any]]
) -> list[DocumentError]:
    errors: list[DocumentError] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        section = str(loc[0]) if loc else "sla"
        name = _SECTION_FILE.get(section, section)
        path, text, _ = sections[name]
        inner: tuple[str | int, ...] = loc[1:] if section not in ("matrix", "components") else loc
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown policy key '{loc[-1]}'"
        errors.append(
            DocumentError(
                path,
                message,
                line=line_in_yaml(text, inner),
                field=".".join(str(p) for p in inner) or None,
                hint="compare with the commented defaults that `incidentctl init` writes",
            )
        )
    return errors
