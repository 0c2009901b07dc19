"""The one way incidentctl reads a file it did not write itself: a regular file inside a
root folder, reached through real folders only, never past the size limit.

A pull request could point `incident.md` at /dev/zero (memory grows until the process dies),
/dev/stdin (a hang), itself (a loop) or a private file outside the repository, and a
template at /etc/passwd. So a symlink, device, FIFO or socket is refused without being
opened, and a listing never enters a symlinked folder. The store reads every document,
policy and snapshot through `regular_file`, and the Jinja loaders of the repository's
`templates/` through the same function. It sits below the rules (which never import it: an
import contract says so) so that both the store and the template loaders share one check.
"""

from __future__ import annotations

import errno
import operator
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from incidentctl.core.documents import MAX_BYTES, file_too_large
from incidentctl.core.errors import DocumentError

NOT_REGULAR = "not-a-regular-file"  # the validate rule
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_ROOT_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_FOLDER_FLAGS = _ROOT_FLAGS | _NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)
_AT = {os.open, os.stat, os.readlink} <= os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


class NotRegularFile(DocumentError):
    """A symlink, device, FIFO or socket where a document, policy or template belongs."""

    def __init__(self, shown: str, what: str) -> None:
        super().__init__(
            shown,
            f"not a regular file ({what}); incidentctl reads only regular files inside the"
            " repository",
            hint="replace it with the file itself (git mode 100644), or delete it",
            rule=NOT_REGULAR,
        )


def _kind(mode: int, target: str | None) -> str:
    if stat.S_ISLNK(mode):
        return f"a symlink to {target}" if target is not None else "a symlink"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _refuse(shown: str, name: str, dir_fd: int | None) -> NotRegularFile:
    """Describe what `name` is (lstat and readlink only: never opened)."""
    try:
        mode = os.lstat(name, dir_fd=dir_fd).st_mode
        target = os.readlink(name, dir_fd=dir_fd) if stat.S_ISLNK(mode) else None
    except OSError:
        return NotRegularFile(shown, "a path that cannot be inspected")
    return NotRegularFile(shown, _kind(mode, target))


def _parts(path: Path, root: Path) -> list[str]:
    """`path`'s parts below `root` (string operations: this runs once per file read)."""
    text, base = str(path), str(root).rstrip(os.sep) + os.sep
    parts = text[len(base) :].split(os.sep) if text.startswith(base) else []
    if not parts or "" in parts or "." in parts or ".." in parts:
        raise DocumentError(
            path,
            f"outside the repository {root}",
            hint="incidentctl reads only files inside the repository",
            rule=NOT_REGULAR,
        )
    return parts


def regular_file(
    path: Path, root: Path, *, limit: int = MAX_BYTES, folders: Folders | None = None
) -> bytes:
    """The bytes of `path`: a regular file under `root`, reached through real folders only.

    Every folder below `root` is opened with O_NOFOLLOW relative to the one above it, and
    the file is inspected with lstat before it is opened (O_NOFOLLOW | O_NONBLOCK: a FIFO
    swapped in meanwhile cannot block), so no symlink is followed and no device or FIFO is
    opened; the size is checked before reading and the read stops at `limit`. `folders`
    keeps the folders open across the reads of a bulk load (`Folders`). Raises
    NotRegularFile (rule not-a-regular-file) or the size error, both located at the path;
    FileNotFoundError or NotADirectoryError when there is no such file."""
    parts = _parts(path, root)
    with _unreadable(parts):
        if not _AT:  # no openat (Windows): the same checks, component by component
            return _regular_by_path(root, parts, limit)
        if folders is not None and folders.root == root:
            return _read_in(folders.open(parts), parts, limit)
        folder = _open_folders(root, parts)
        try:
            return _read_in(folder, parts, limit)
        finally:
            os.close(folder)


@contextmanager
def _unreadable(parts: list[str]) -> Iterator[None]:
    """An OSError reading the file at `parts` as a located DocumentError (rule unreadable);
    a missing file stays FileNotFoundError or NotADirectoryError."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        raise DocumentError(
            "/".join(parts), f"cannot be read: {exc.strerror}", rule="unreadable"
        ) from None


def regular_info(path: Path, root: Path, *, folders: Folders | None = None) -> os.stat_result:
    """What lstat says of `path`, a regular file under `root` reached through real folders
    (the checks of `regular_file`, nothing opened or read): a caller that knows the file by
    its stat (the results cache) need not read it. `folders`: as for `regular_file`."""
    parts = _parts(path, root)
    if folders is None or folders.root != root:
        with Folders(root) as own:
            return regular_info(path, root, folders=own)
    with _unreadable(parts):
        if _AT:
            folder = folders.open(parts)
            info = os.lstat(parts[-1], dir_fd=folder)
            if not stat.S_ISREG(info.st_mode):
                raise _refuse("/".join(parts), parts[-1], folder)
        else:  # no openat (Windows): each part by its path, as `regular_file` does
            info = _lstat_by_path(root, parts)
    if info.st_size > MAX_BYTES:
        raise file_too_large("/".join(parts), info.st_size)
    return info


def stamp_info(path: Path | str) -> os.stat_result | None:
    """What lstat says of `path` by its whole path, if it is a regular file within the size
    limit; None otherwise (gone, a symlink, a device: `regular_info` says which). It does
    not check the folders on the way, so it only ever confirms a stat that `regular_info`
    took: equal device, inode, size and times are the same file it vouched for, whatever
    the path passed through. One system call instead of a walk: a warm `validate` stats
    12,800 files."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_BYTES else None


def _open_below(folder: int, parts: list[str], depth: int) -> int:
    """The real folder `parts[depth]` inside the open `folder`; a symlink, FIFO or device
    there is refused, located."""
    try:
        return os.open(parts[depth], _FOLDER_FLAGS, dir_fd=folder)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            mode = os.lstat(parts[depth], dir_fd=folder).st_mode
            if not stat.S_ISREG(mode):  # a symlink, FIFO or device, not a folder
                where = "/".join(parts[: depth + 1])
                raise _refuse(where, parts[depth], folder) from None
        raise


def _open_folders(root: Path, parts: list[str]) -> int:
    """The folder holding `parts[-1]`, opened from `root` down, one real folder at a time."""
    folder = os.open(root, _ROOT_FLAGS)
    try:
        for depth in range(len(parts) - 1):
            below = _open_below(folder, parts, depth)
            os.close(folder)
            folder = below
    except BaseException:
        os.close(folder)
        raise
    return folder


class Folders:
    """The folders of a bulk load, kept open between its reads: a file four folders down
    then costs its own five system calls, not another ten to open and close its folders
    again. The most recently used `keep` stay open; `close` (or the end of the `with`)
    closes them. Only for the span of one load: a folder replaced meanwhile (a checkout)
    is seen again at the next load."""

    def __init__(self, root: Path, keep: int = 16) -> None:
        self.root = root
        self._keep = max(keep, 8)
        self._open: dict[tuple[str, ...], int] = {}

    def open(self, parts: list[str]) -> int:
        """The open folder holding `parts[-1]`."""
        return self._folder(tuple(parts[:-1]), parts)

    def _folder(self, below: tuple[str, ...], parts: list[str]) -> int:
        fd = self._open.pop(below, None)
        if fd is None:
            if below:
                parent = self._folder(below[:-1], parts)
                fd = _open_below(parent, parts, len(below) - 1)
            else:
                fd = os.open(self.root, _ROOT_FLAGS)
        self._open[below] = fd  # most recently used last (a dict keeps insertion order)
        while len(self._open) > self._keep:
            os.close(self._open.pop(next(iter(self._open))))
        return fd

    def close(self) -> None:
        while self._open:
            os.close(self._open.popitem()[1])

    def __enter__(self) -> Folders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_in(folder: int, parts: list[str], limit: int) -> bytes:
    """The regular file `parts[-1]` inside the open `folder` (lstat before opening)."""
    name = parts[-1]
    info = os.lstat(name, dir_fd=folder)
    if not stat.S_ISREG(info.st_mode):
        raise _refuse("/".join(parts), name, folder)
    if info.st_size > limit:
        raise file_too_large("/".join(parts), info.st_size)
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink since the lstat
            raise _refuse("/".join(parts), name, folder) from None
        raise
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or opened.st_ino != info.st_ino:
            raise NotRegularFile("/".join(parts), "replaced while it was read")
        data = os.read(fd, min(opened.st_size, limit) + 1)
        while len(data) <= limit and len(data) > opened.st_size:  # grew since: read on
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > limit:
        raise file_too_large("/".join(parts), len(data))
    return data


def _lstat_by_path(root: Path, parts: list[str]) -> os.stat_result:
    path = root
    info = None
    for depth, part in enumerate(parts, start=1):
        path = path / part
        info = path.lstat()
        last = depth == len(parts)
        if stat.S_ISLNK(info.st_mode) or (last and not stat.S_ISREG(info.st_mode)):
            raise _refuse("/".join(parts[:depth]), str(path), None)
    assert info is not None
    return info


def _regular_by_path(root: Path, parts: list[str], limit: int) -> bytes:
    path = root.joinpath(*parts)
    info = _lstat_by_path(root, parts)
    if info.st_size > limit:
        raise file_too_large("/".join(parts), info.st_size)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise file_too_large("/".join(parts), len(data))
    return data


def real_folder(folder: Path, root: Path) -> None:
    """Refuse to create a file in `folder` when a part of it below `root` is a symlink (or
    a FIFO or device): the new file would land wherever the link points. Parts that do not
    exist yet are fine; they are created as real folders."""
    if folder == root:
        return
    parts = _parts(folder, root)
    current = root
    for depth, part in enumerate(parts, start=1):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):  # a file there fails on its own
            raise _refuse("/".join(parts[:depth]), str(current), None)


def entries(folder: Path) -> Iterator[os.DirEntry[str]]:
    """Every entry under `folder` that is not a real folder (files, symlinks, FIFOs,
    devices), never descending into a symlinked folder; a folder's own entries in name
    order, then its subfolders in name order (walked on strings, one folder at a time: a
    listing of 10,000 incident folders makes no Path and no nested generator)."""
    pending = [os.fspath(folder)]
    while pending:
        try:
            with os.scandir(pending.pop()) as listing:
                found = sorted(listing, key=_NAME)
        except (FileNotFoundError, NotADirectoryError):
            continue
        below = []
        for entry in found:
            if entry.is_dir(follow_symlinks=False):
                below.append(entry.path)
            else:
                yield entry
        pending.extend(reversed(below))


_NAME = operator.attrgetter("name")


def irregular(
    root: Path, folder: str, listed: Iterable[os.DirEntry[str]] | None = None
) -> list[NotRegularFile]:
    """Every symlink, device, FIFO or socket under `root/folder`, as located errors (what
    `validate` reports; a symlinked folder is listed once, not followed). `listed`: the
    folder's `entries`, when the caller has them already."""
    base = root / folder
    if base.is_symlink():
        return [_refuse(folder, str(base), None)]
    return [
        _refuse(Path(entry.path).relative_to(root).as_posix(), entry.path, None)
        for entry in (entries(base) if listed is None else listed)
        if not entry.is_file(follow_symlinks=False)
    ]
