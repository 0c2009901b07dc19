"""One kind of document in the repository, found, read, validated and written the same way.

A kind is a declaration (its folder, the glob of its files, its model); every kind then
loads and scans in bulk, writes new files only once they validate, and
saves a changed model as minimal edits verified by re-parsing, so comments, key order and
the markdown body of a file survive every command.
"""

from __future__ import annotations

import fnmatch
import operator
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from incidentctl.core.diagnostics import explain
from incidentctl.core.documents import Document, parse, top_level
from incidentctl.core.errors import DocumentError, DocumentErrors, IncidentctlError
from incidentctl.disk.regular import real_folder
from incidentctl.store import edits as editing
from incidentctl.store import locks
from incidentctl.store.files import Source, bulk_load, create_exclusive, write_atomic

M = TypeVar("M", bound=BaseModel)
Progress = Callable[[int, int], None]  # (done, total), now and then during a bulk load
Wanted = Callable[[dict[str, Any]], bool]  # a parsed front-matter: build its model?


class Glance(NamedTuple):
    """A scan's first look at a few top-level fields, read from their own lines
    (`documents.top_level`): a file `keep` turns down from them alone is not even parsed.
    `keep` sees only `fields` (absent when the file has none), and must turn a file down
    only when its whole front-matter would be turned down too."""

    fields: frozenset[str]
    keep: Wanted


@dataclass
class Edited(Generic[M]):
    """What one locked edit did: the document as read under the lock, and as written."""

    path: Path  # repository path
    before: M
    after: M
    old: str  # the text before
    text: str  # the text after (what was written, or would be in a dry run)

    @property
    def changed(self) -> bool:
        return self.text != self.old


def validated(model: type[M], doc: Document) -> M:
    """The document's front-matter as `model`; every schema problem located in the file."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise DocumentErrors(explain(exc, model, doc.path, doc.line_of)) from None


_PARTS = operator.itemgetter(0)


def _is_folder(entry: os.DirEntry[str]) -> bool:
    """Whether a symlink points to a folder (stat only: nothing is opened or read)."""
    try:
        return entry.is_dir()
    except OSError:  # a loop
        return False


class Collection(Generic[M]):
    """Every document of one kind. Subclasses declare `model`, `folder` and `glob`."""

    model: type[M]
    folder: str
    glob: str  # under the folder; "**/NAME": NAME at any depth, folders walked in name order
    omit_defaults = False  # the files hold only values that differ from the model's defaults

    def __init__(self, source: Source) -> None:
        self.source = source
        self._dir: Path | None = None

    @property
    def dir(self) -> Path:
        if self._dir is None:  # asked for every file of a bulk load
            self._dir = self.source.root / self.folder
        return self._dir

    def files(self) -> list[Path]:
        """Every file of the kind, in a stable order; a README.md is documentation.

        Listed without following symlinks: a symlink, FIFO or device with the kind's name
        is listed (reading it is refused, so commands and `validate` name it), a symlinked
        folder is not entered (for "**/NAME" kinds it is listed itself)."""
        if self.dir.is_symlink():
            return [self.dir]
        return list(self.source.kind_files(self.dir, self.glob, self._matching))

    def listed(self) -> frozenset[str] | None:
        """`files` as strings when this run has listed the kind's folder (`Source.known`),
        else None."""
        return self.source.known(self.dir, self.glob, self._matching)

    def _matching(self) -> list[Path]:
        """`files` without the memo: matched on the listing's strings, a Path made only
        for a match (a warm `validate` listed 12,000 files through pathlib eight times)."""
        if self.glob.startswith("**/"):
            name = self.glob.removeprefix("**/")
            return [
                Path(entry.path)
                for entry in self.source.entries(self.dir)
                if entry.name == name or (entry.is_symlink() and _is_folder(entry))
            ]
        pattern = self.glob.split("/")
        prefix = str(self.dir) + os.sep
        last = pattern[-1] if not any(c in pattern[-1] for c in "*?[") else None
        checks = [(i, glob) for i, glob in enumerate(pattern) if glob != "*"]  # "*": any name
        found: list[tuple[list[str], str]] = []
        for entry in self.source.entries(self.dir):
            if last is not None and entry.name != last:  # "*/*/*/pir.md": the name first
                continue
            parts = entry.path.removeprefix(prefix).split(os.sep)
            if (
                len(parts) == len(pattern)
                and all(fnmatch.fnmatchcase(parts[i], glob) for i, glob in checks)
                and entry.name.lower() != "readme.md"
            ):
                found.append((parts, entry.path))
        found.sort(key=_PARTS)  # the order of sorted Paths (part by part), on the strings
        return [Path(path) for _, path in found]

    def validated(self, doc: Document) -> M:
        return validated(self.model, doc)

    def load(self, path: Path) -> tuple[Document, M]:
        """Parse and validate one file; DocumentErrors lists every problem."""
        doc = self.source.read(path)
        return doc, self.validated(doc)

    def from_bytes(self, path: Path, raw: bytes) -> tuple[Document, M]:
        """`load` of bytes already read (their hash was the results cache's key)."""
        doc = self.parsed(path, raw)
        return doc, self.validated(doc)

    def parsed(self, path: Path, raw: bytes) -> Document:
        """Bytes already read as a document, not yet validated (a reader that may not need
        the model looks at its data first); DocumentError when it does not parse."""
        return parse(Path(self.source.rel(path)), raw)

    def scan(
        self,
        paths: list[Path] | None = None,
        *,
        progress: Progress | None = None,
        wanted: Wanted | None = None,
        glance: Glance | None = None,
    ) -> Iterator[tuple[Document, M] | DocumentErrors]:
        """Load many files fast: the collector is paused during the bulk load (`bulk_load`).
        `wanted` sees each parsed front-matter first: a file it turns down is passed over,
        unvalidated (a reader that needs only some files); `glance` looks before the parse."""
        with bulk_load(), self.source.batch():
            files = paths if paths is not None else self.files()
            for done, path in enumerate(files, start=1):
                if progress is not None and (done % 250 == 0 or done == len(files)):
                    progress(done, len(files))
                try:
                    raw = self.source.raw(path)
                    if glance is not None:
                        seen = top_level(raw, glance.fields)
                        if seen is not None and not glance.keep(seen):
                            continue
                    doc = self.parsed(path, raw)
                    if wanted is not None and not wanted(doc.data):
                        continue
                    item = self.validated(doc)
                except DocumentErrors as exc:
                    yield exc
                    continue
                except DocumentError as exc:
                    yield DocumentErrors([exc])
                    continue
                doc.data = {}  # the model holds it now; keep bulk loads lean
                yield doc, item

    def locked(self, path: Path, *, dry_run: bool = False) -> AbstractContextManager[None]:
        """The document's exclusive lock for a block (`store.locks`); none for a dry run,
        which writes nothing."""
        return nullcontext() if dry_run else locks.hold(self.source.root, path)

    def edit(self, path: Path, change: Callable[[M], M], *, dry_run: bool = False) -> Edited[M]:
        """Load, change and save one document as one locked section, so `change` (a pure
        transition) applies to the file as it is now and no concurrent write is lost."""
        with self.locked(path, dry_run=dry_run):
            doc, before = self.load(path)
            old = doc.text()
            after = change(before)
            text = self.save(doc, before, after, dry_run=dry_run)
        return Edited(doc.path, before, after, old, text)

    def edit_front(
        self, path: Path, change: Callable[[Document, M], str], *, dry_run: bool = False
    ) -> Edited[M]:
        """The same for an edit of the front-matter text: `change` returns the new text
        (minimal edits of `doc.front`), which is verified before it is written."""
        with self.locked(path, dry_run=dry_run):
            doc, before = self.load(path)
            old = doc.text()
            doc.front = change(doc, before)
            text, after = self._verified(doc)
            if not dry_run and text != old:
                self._replace(doc.path, text)
        return Edited(doc.path, before, after, old, text)

    def add(
        self,
        path: Path,
        text: str,
        *,
        exists: IncidentctlError,
        expected: M | None = None,
        dry_run: bool = False,
    ) -> M:
        """Write a new file once its text validates (and, given `expected`, reads back as
        exactly that). The file is created exclusively: if it exists, or another run
        creates it first, `exists` (the kind's own refusal) is raised and nothing written."""
        doc = parse(Path(self.source.rel(path)), text.encode("utf-8"))
        made = self.validated(doc)
        if expected is not None and made != expected:
            raise RuntimeError(f"{doc.path} did not round-trip; nothing was written")
        real_folder(path.parent, self.source.root)  # never created through a symlink
        if os.path.lexists(path):
            raise exists
        if not dry_run:
            with self.locked(path):
                try:
                    create_exclusive(path, text)
                except FileExistsError:
                    raise exists from None
                finally:
                    self.source.forget_listings()
        return made

    def write(self, doc: Document, *, dry_run: bool = False) -> str:
        """Write an edited document after checking that it still parses and validates (under
        the document's lock; `edit_front` also reads it under the lock)."""
        text, _ = self._verified(doc)
        if not dry_run:
            self._replace(doc.path, text)
        return text

    def save(self, doc: Document, before: M, after: M, *, dry_run: bool = False) -> str:
        """Apply the difference between two versions as minimal edits, verify, write (under
        the document's lock; `edit` also reads it under the lock)."""
        front = doc.front
        old, new = self._plain(before), self._plain(after)
        for key in self.model.model_fields:
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if key not in new:  # back to its default value: write the default explicitly
                now = after.model_dump(mode="json", include={key})[key]
            if isinstance(was, list) and isinstance(now, list) and was and now[: len(was)] == was:
                for item in now[len(was) :]:
                    front = editing.append_item(front, key, item)
            else:
                front = editing.set_key(front, key, now)
        edited = Document(
            path=doc.path, data={}, front=front, body=doc.body, bom=doc.bom, crlf=doc.crlf
        )
        text, made = self._verified(edited)
        if made != after:
            raise RuntimeError(f"edit of {doc.path} did not round-trip; nothing was written")
        if not dry_run and front != doc.front:  # an unchanged file is left as it is
            self._replace(doc.path, text)
        return text

    def _verified(self, doc: Document) -> tuple[str, M]:
        """The document's text and what it reads back as (it must still validate)."""
        text = doc.text()
        return text, self.validated(parse(doc.path, text.encode("utf-8")))

    def _replace(self, rel: Path, text: str) -> None:
        path = self.source.root / rel
        with self.locked(path):
            write_atomic(path, text)

    def _plain(self, item: M) -> dict[str, Any]:
        """JSON-able fields as a file of the kind holds them: no nulls (nor defaults)."""
        data: dict[str, Any] = item.model_dump(
            mode="json", exclude_none=True, exclude_defaults=self.omit_defaults
        )
        return data
