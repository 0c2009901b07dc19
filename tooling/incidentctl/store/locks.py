"""One exclusive OS lock per document, so that commands editing it run one after another.

During an incident several responders and the reminder job touch the same file; without a
lock two commands read the same version and the second write drops the first one's event.
Every write holds the document's lock from the read to the atomic rename (see
`Collection.edit`), so each change applies to the file as it is now.

The lock is `flock(2)` (the filelock library, without its soft fallback): the kernel drops it
when the process dies, so a crashed or killed command never leaves a document locked. It is
taken on a separate file outside the tracked tree, never on the document: the atomic rename
gives the document a new inode (a lock on the old one would lock nothing), and a lock file
beside it would be committed by `git add incidents`. The lock files live in the git
directory every worktree shares, `<git-common-dir>/incidentctl/locks/`, else (not a git
checkout) in the user's cache folder; one per document, named by a hash of its path.

A lock that cannot be had within INCIDENTCTL_LOCK_TIMEOUT seconds (default 10) is an error
that names the document and the command holding it: nothing is written, nothing is lost.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidentctl.core.errors import DocumentError, IncidentctlError
from incidentctl.store import git
from incidentctl.store.cache import cache_folder
from incidentctl.store.files import relative

if TYPE_CHECKING:
    from filelock import FileLock

DEFAULT_TIMEOUT = 10.0
TIMEOUT_VARIABLE = "INCIDENTCTL_LOCK_TIMEOUT"

_POLL = 0.01  # seconds between tries while another command holds the lock (a few ms each)
_held: dict[Path, FileLock] = {}  # lock file -> the lock this process holds (re-entrant)
_folders: dict[Path, Path] = {}  # repository root -> its lock folder


def timeout() -> float:
    """Seconds to wait for a lock: $INCIDENTCTL_LOCK_TIMEOUT, else 10."""
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise IncidentctlError(
            f"{TIMEOUT_VARIABLE}={text!r} is not a number of seconds",
            hint=f"e.g. {TIMEOUT_VARIABLE}=30, or unset it for the default of "
            f"{DEFAULT_TIMEOUT:g} s",
        )
    return seconds


def folder(root: Path) -> Path:
    """Where the repository's lock files live: in its git directory, else the user cache."""
    if root not in _folders:
        common = git.common_dir(root)
        if common is not None:
            _folders[root] = common / "incidentctl" / "locks"
        else:
            digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
            _folders[root] = cache_folder() / "locks" / digest
    return _folders[root]


def lock_file(root: Path, document: Path) -> Path:
    """The lock file of one document (it need not exist yet: creations lock it too)."""
    name = hashlib.sha256(str(document.resolve()).encode("utf-8", "surrogateescape"))
    return folder(root) / f"{name.hexdigest()[:32]}.lock"


@contextmanager
def hold(root: Path, document: Path) -> Iterator[None]:
    """Hold the document's exclusive lock for the block; a lock this process already holds
    is held again (re-entrant), so a locked edit may call the store's own writes."""
    path = lock_file(root, document)
    if path in _held:
        yield
        return
    lock = _acquire(root, document, path)
    _held[path] = lock
    try:
        _note_holder(path)
        yield
    finally:
        del _held[path]
        _note_holder(path, clear=True)  # while still held: the next holder writes its own
        lock.release()


def _acquire(root: Path, document: Path, path: Path) -> FileLock:
    wait = timeout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IncidentctlError(
            f"cannot create the lock folder {path.parent}: {exc.strerror}",
            hint="incidentctl locks each document there while it edits it; make the folder "
            "writable",
        ) from None
    from filelock import FileLock, Timeout  # here: a command that writes nothing never loads it

    lock = FileLock(path, timeout=wait, fallback_to_soft=False)
    try:
        lock.acquire(poll_interval=_POLL)
    except Timeout:
        raise DocumentError(
            relative(root, document),
            f"is being edited by {_holder(path)}; gave up after {wait:g} s, nothing was written",
            hint="run the command again when that one is done, or wait longer with "
            f"{TIMEOUT_VARIABLE}=SECONDS (lock file {path})",
            rule="locked",
        ) from None
    except OSError as exc:
        raise IncidentctlError(
            f"cannot lock {relative(root, document)} (lock file {path}): {exc.strerror or exc}",
            hint="the lock folder must be on a local file system that supports flock",
        ) from None
    return lock


def _note_holder(path: Path, *, clear: bool = False) -> None:
    """Say in the lock file who holds it, for the error another command shows when it gives
    up (the lock itself is the flock; this text is only information)."""
    command = " ".join(["incidentctl", *sys.argv[1:]])
    if len(command) > 200:
        command = command[:197] + "..."
    text = "" if clear else f"pid {os.getpid()} on {socket.gethostname()} ({command})"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as handle:
        handle.write(text.replace("\n", " "))


def _holder(path: Path) -> str:
    """Who holds the lock, as its holder noted; the note's time is the file's mtime."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(400).strip()
            since = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
    except OSError:
        return "another process"
    return f"{text} since {since:%Y-%m-%dT%H:%M:%SZ}" if text else "another process"
