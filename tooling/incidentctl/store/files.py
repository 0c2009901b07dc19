"""The repository's bytes: documents read and parsed, files written atomically, the results
cache of a run.

Every read is `regular_file` (core/regular.py): regular files inside the repository only,
size-checked before reading; a symlink, device or FIFO is refused without being opened.
"""

from __future__ import annotations

import errno
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from incidentctl.core.documents import Document, parse
from incidentctl.disk.regular import Folders, entries, regular_file, regular_info, stamp_info
from incidentctl.store.cache import ResultsCache, digest


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


def create_exclusive(path: Path, content: str) -> None:
    """Write a new file complete, or not at all if the name exists: a synced temp file is
    hard-linked into place, since link(2) fails on an existing name where rename would
    replace it. Of two runs creating one file at once, one wins and the other gets
    FileExistsError. Without hard links (some file systems) an O_EXCL create stands in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _NO_HARD_LINKS:
                raise
            if not create_new(path, data):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path)) from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_CREATE |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def create_new(path: Path, data: bytes, *, durable: bool = True) -> bool:
    """A new file created in place, mode 0644 whatever the umask: no temporary file, chmod
    and rename where there is nothing to replace (two thirds of writing a 10,000-page site).
    O_EXCL creates a new name or fails, so nothing is overwritten or written through a
    symlink; False when the name exists. A failed write removes the file (O_EXCL made it
    ours). `durable`: as for `write_atomic`."""
    try:
        fd = os.open(path, _CREATE, 0o644)
    except FileExistsError:
        return False
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o644)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return True


@contextmanager
def bulk_load() -> Iterator[None]:
    """Thousands of models built at once: the collector is paused meanwhile, and what was
    built is kept out of its later passes (`gc.freeze`), which would otherwise walk every
    model again, about a second per 10,000 incidents. What an earlier load froze is handed
    back to the collector first (a `watch` turn's models are garbage at the next turn), and
    the command line unfreezes when a command ends (`cli.app.run`)."""
    gc.unfreeze()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


_RACY_NS = 2_000_000_000  # a stat younger than this may hide a same-tick write


def _stamp(info: os.stat_result) -> str:
    """A file's identity and version as the results cache compares it."""
    return f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def relative(root: Path, path: Path | str) -> str:
    """`path` below `root` as a repository path (a/b/c.md); any other path as given. On the
    strings first: this runs for every file of a bulk load."""
    text, base = str(path), str(root)
    if os.sep == "/" and text.startswith(base) and text[len(base) : len(base) + 1] == "/":
        return text[len(base) + 1 :]
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return text


class Source:
    """One repository's files as documents, shared by every collection so that a run keeps
    one listing per folder and one results cache (loaded on first use, saved after bulk
    loads)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = os.fspath(root)  # the root as the listing's paths begin
        self._results: ResultsCache | None = None
        self._listed: dict[Path, list[os.DirEntry[str]]] = {}
        self._kinds: dict[tuple[Path, str], list[Path]] = {}
        self._known: dict[tuple[Path, str], frozenset[str]] = {}
        self._folders: Folders | None = None

    @property
    def results(self) -> ResultsCache:
        if self._results is None:
            self._results = ResultsCache(self.root)
        return self._results

    def entries(self, folder: Path) -> list[os.DirEntry[str]]:
        """`disk.regular.entries` of `folder`, listed once per run: incidents, PIRs and the
        scan for non-regular files all walk incidents/ (a creation forgets the listings)."""
        if folder not in self._listed:
            self._listed[folder] = list(entries(folder))
        return self._listed[folder]

    def kind_files(self, folder: Path, glob: str, match: Callable[[], list[Path]]) -> list[Path]:
        """A document kind's files (`match` over the listing), matched once per listing."""
        key = (folder, glob)
        if key not in self._kinds:
            self._kinds[key] = match()
        return self._kinds[key]

    def known(
        self, folder: Path, glob: str, match: Callable[[], list[Path]]
    ) -> frozenset[str] | None:
        """`kind_files` as strings, if this run has listed `folder` already (a bulk load
        did): whether a file is there is then a set lookup, not a failed read (7,000 of
        10,000 incidents have no pir.md). None: not listed yet, ask the file system."""
        if folder not in self._listed:
            return None
        key = (folder, glob)
        if key not in self._known:
            self._known[key] = frozenset(map(str, self.kind_files(folder, glob, match)))
        return self._known[key]

    def forget_listings(self) -> None:
        """A file was created: the next listing walks the folders again."""
        self._listed.clear()
        self._kinds.clear()
        self._known.clear()

    def rel(self, path: Path) -> str:
        return relative(self.root, path)

    def raw(self, path: Path) -> bytes:
        """A file's bytes, if it is a regular file inside the repository (`regular_file`)."""
        return regular_file(path, self.root, folders=self._folders)

    def digest(self, path: Path, rel: str | None = None) -> tuple[str, bytes | None]:
        """A file's content hash (what the results cache keys its results by) and its bytes
        when they had to be read; `rel`: its repository path, if the caller has it. In a
        batch with the cache on, a file whose lstat is as when it was last hashed is not
        read again: device, inode, size, mtime and ctime (which no program can set back)
        all equal. A stat is remembered only once both times are two seconds old, so a
        write in the same clock tick as the hash (same size, same times) is never taken for
        the old content (git's "racy" rule). Remembered stats come from `regular_info`
        only; one lstat of the whole path (`stamp_info`) is enough to find the same file
        again, and anything else takes the checked walk."""
        results = self.results
        if self._folders is None or not results.enabled:
            raw = self.raw(path)
            return digest(raw), raw
        name = f"stat:{self.rel(path) if rel is None else rel}"
        quick = stamp_info(path)
        if quick is not None:
            known = results.get(name, _stamp(quick))
            if isinstance(known, str):
                return known, None
        info = regular_info(path, self.root, folders=self._folders)
        stamp = _stamp(info)
        known = results.get(name, stamp)
        if isinstance(known, str):
            return known, None
        raw = self.raw(path)
        content = digest(raw)
        settled = time.time_ns() - _RACY_NS
        if info.st_mtime_ns < settled and info.st_ctime_ns < settled:
            results.put(name, stamp, content)
        return content, raw

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The reads of one bulk load share their open folders (`disk.regular.Folders`):
        thousands of files read at a third of the system calls. Nested batches share the
        outer one."""
        if self._folders is not None:
            yield
            return
        with Folders(self.root) as folders:
            self._folders = folders
            try:
                yield
            finally:
                self._folders = None

    def read(self, path: Path) -> Document:
        """Read, split and parse a document (yaml-rs: parsing again costs about what reading
        a cached copy of the data would)."""
        return parse(Path(self.rel(path)), self.raw(path))

    def save_cache(self, *, prune: bool = False) -> None:
        """Keep this run's results for the next one; `prune` after a full scan forgets the
        files that are gone."""
        if self._results is not None:
            listed = {
                relative(self.root, entry.path)
                for found in (self._listed.values() if prune else ())
                for entry in found
            }
            self._results.save(prune=prune, listed=listed)
