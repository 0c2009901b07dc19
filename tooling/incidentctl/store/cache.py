"""The results cache: what a command concluded about a file that did not change, so the file
is not parsed, validated or checked again.

Each entry is named by its purpose and repository path (`validate:incidents/.../incident.md`)
and kept under a key that names everything the result read: the file's content hash, the
hash of the rest it depends on (every file of policies/, the runbook names, the incident
beside a PIR) and the tool itself (its version and a hash of its files). Any change to
any of them is a miss, so the cache can make a run faster, never different. Results that
depend on the time or on git history are never stored: the facts they are computed from
are (an incident's "settled since" instant; whether its PIR's approval time comes from git).

It lives outside the repository (nothing to ignore or commit): `$INCIDENTCTL_CACHE_DIR`, else
`$XDG_CACHE_HOME/incidentctl`, else `~/.cache/incidentctl`, one file per repository, written
atomically. A file of another format, another tool, another repository, or one that does
not parse is ignored and replaced. Off when `$CI` is set unless `INCIDENTCTL_CACHE=on` (the
workflows turn it on and keep it with actions/cache); `INCIDENTCTL_CACHE=on|off` decides.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import incidentctl

FORMAT = 3  # 3: results (findings, facts) instead of parsed front-matter


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


def combined(parts: Iterable[str]) -> str:
    """One key from several (content hashes, names): any part changed, another key."""
    return digest("\0".join(parts).encode("utf-8"))


@cache
def tool_fingerprint() -> str:
    """The version and the content of every file of the installed package (code, shipped
    policies, templates): a cache written by other code (another release, a checkout being
    edited) is never read, and the same release installed afresh (a CI runner's `pip
    install`) reads the cache its previous run saved. About 2 MB hashed, a few ms."""
    package = Path(incidentctl.__file__).parent
    parts = [incidentctl.__version__, str(FORMAT)]
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    content = digest(handle.read())
            except OSError:
                continue
            parts.append(f"{os.path.relpath(path, package)}:{content}")
    return combined(parts)


def wanted() -> bool:
    """On by default, except in CI (a fresh runner has nothing to reuse unless the workflow
    restores the cache, and then it says INCIDENTCTL_CACHE=on)."""
    setting = os.environ.get("INCIDENTCTL_CACHE", "").lower()
    if setting in ("off", "0", "no", "false"):
        return False
    if setting in ("on", "1", "yes", "true"):
        return True
    return not os.environ.get("CI")


class ResultsCache:
    """Results by name (purpose and path) under their keys; loaded on first use, saved once."""

    def __init__(self, root: Path) -> None:
        self.enabled = wanted()
        self.root = str(root.resolve())
        name = hashlib.sha256(self.root.encode()).hexdigest()[:16] + ".json"
        self.path = cache_folder() / name
        self._entries: dict[str, Any] | None = None
        self._dirty = False

    def _loaded(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            try:
                stored = json.loads(self.path.read_bytes())
            except (OSError, ValueError, RecursionError):  # a damaged cache only costs speed
                return self._entries
            if (
                isinstance(stored, dict)
                and stored.get("format") == FORMAT
                and stored.get("tool") == tool_fingerprint()
                and stored.get("root") == self.root
                and isinstance(stored.get("results"), dict)
            ):
                self._entries = stored["results"]
        return self._entries

    def get(self, name: str, key: str) -> Any:
        """The result stored under `name` if its key is `key`; else None."""
        if not self.enabled:
            return None
        entry = self._loaded().get(name)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == key:
            return entry[1]
        return None

    def put(self, name: str, key: str, value: Any) -> None:
        if self.enabled:
            self._loaded()[name] = [key, value]
            self._dirty = True

    def save(self, *, prune: bool = False, listed: Collection[str] = ()) -> None:
        """Write the cache back if anything changed; with `prune`, forget the entries of
        files that no longer exist (`listed`: repository paths this run saw listed, which
        need no stat)."""
        if not self.enabled or self._entries is None:
            return
        if prune:
            gone = [
                name
                for name in self._entries
                if (rel := name.partition(":")[2]) not in listed
                and not os.path.isfile(os.path.join(self.root, rel))
            ]
            for name in gone:
                del self._entries[name]
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
                text = json.dumps(
                    {
                        "format": FORMAT,
                        "tool": tool_fingerprint(),
                        "root": self.root,
                        "results": self._entries,
                    },
                    separators=(",", ":"),
                )
                handle.write(text)
            os.replace(tmp, self.path)
            self._dirty = False
        except (OSError, ValueError, RecursionError):
            Path(tmp).unlink(missing_ok=True)
