"""The store's memory of parsed front-matter, so a file that did not change is not parsed again.

Parsing YAML is most of the cost of every bulk command (about 2 ms a file with libyaml); JSON
of the same data loads ten times faster. Entries are keyed by the file's path and a hash of
its bytes, so an edited, replaced or restored file is always parsed afresh: the cache can make
a run faster, never different. It lives outside the repository (nothing to ignore or commit):
`$INCIDENTCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/incidentctl`, else `~/.cache/incidentctl`, one
file per repository. Off in CI (`$CI` set: nothing to reuse on a fresh runner);
`INCIDENTCTL_CACHE=on|off` decides explicitly; an unreadable or unwritable cache is silently
ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_VERSION = 2  # 2: the loader refuses duplicated keys, huge numbers and deep nesting
_MAX_DEPTH = 64  # as the loader's limit; deeper data is never cached (nor recursed into)


def cache_folder() -> Path:
    """The user's cache folder for incidentctl (also where a checkout without git keeps its
    document locks)."""
    explicit = os.environ.get("INCIDENTCTL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "incidentctl"


def digest(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _json_safe(data: Any, depth: int = 0) -> bool:
    """Only data that survives JSON unchanged is cached (YAML allows e.g. integer keys), and
    only as deep as the loader allows: the cache must never be what fails on a file."""
    if data is None or isinstance(data, str | bool | int):
        return True
    if isinstance(data, float):
        return data == data and data not in (float("inf"), float("-inf"))
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(data, list):
        return all(_json_safe(item, depth + 1) for item in data)
    if isinstance(data, dict):
        return all(isinstance(k, str) and _json_safe(v, depth + 1) for k, v in data.items())
    return False


def _wanted() -> bool:
    """On by default, except in CI (a fresh runner has nothing to reuse and would only pay
    for writing the cache); INCIDENTCTL_CACHE=on|off decides explicitly."""
    setting = os.environ.get("INCIDENTCTL_CACHE", "").lower()
    if setting in ("off", "0", "no", "false"):
        return False
    if setting in ("on", "1", "yes", "true"):
        return True
    return not os.environ.get("CI")


class ParseCache:
    """Front-matter data by (repository path, content hash), loaded once, saved once."""

    def __init__(self, root: Path) -> None:
        self.enabled = _wanted()
        name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16] + ".json"
        self.path = cache_folder() / name
        self._entries: dict[str, list[Any]] = {}
        self._seen: set[str] = set()
        self._dirty = False
        if self.enabled:
            self._load()

    def _load(self) -> None:
        try:
            stored = json.loads(self.path.read_bytes())
        except (OSError, ValueError, RecursionError):  # a damaged cache only costs speed
            return
        if isinstance(stored, dict) and stored.get("version") == _VERSION:
            files = stored.get("files")
            if isinstance(files, dict):
                self._entries = files

    def get(self, rel: str, key: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        self._seen.add(rel)
        entry = self._entries.get(rel)
        if entry and entry[0] == key and isinstance(entry[1], dict):
            data: dict[str, Any] = entry[1]
            return data
        return None

    def put(self, rel: str, key: str, data: dict[str, Any]) -> None:
        if self.enabled and _json_safe(data):
            self._entries[rel] = [key, data]
            self._dirty = True

    def save(self, *, prune: Path | None = None) -> None:
        """Write the cache back if anything changed; with `prune` (the repository root),
        forget the entries of files that no longer exist."""
        if not self.enabled:
            return
        if prune is not None:
            gone = [rel for rel in self._entries if rel not in self._seen
                    and not (prune / rel).is_file()]  # fmt: skip
            for rel in gone:
                del self._entries[rel]
            self._dirty = self._dirty or bool(gone)
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cache.", dir=self.path.parent)
        except OSError:
            return  # a cache that cannot be written only costs speed
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                # dumps, not dump: only the one-shot encoder is the fast C one
                text = json.dumps(
                    {"version": _VERSION, "files": self._entries}, separators=(",", ":")
                )
                handle.write(text)
            os.replace(tmp, self.path)
            self._dirty = False
        except (OSError, ValueError, RecursionError):
            Path(tmp).unlink(missing_ok=True)
