"""The only module that runs git: files as they are at another revision, the delivery
record's ref (a compare-and-swap by push), the fast-forward of `watch --pull`, and the commit
and push of a change made from a comment (`github command`).

One `git ls-tree` and one `git cat-file --batch` read every incident at the base in a
single pass; a `git show` per file would take minutes at ten thousand incidents.
"""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from incidentctl.core.documents import MAX_BYTES
from incidentctl.core.errors import IncidentctlError


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise IncidentctlError("git is not installed", hint="install git to use --base") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise IncidentctlError(f"git {' '.join(args[:2])} failed: {message}")
    return result.stdout


def resolve(root: Path, ref: str) -> str:
    """The commit a ref names; a clear error for a ref that does not exist."""
    if ref.startswith("-"):
        raise IncidentctlError(f"{ref!r} is not a git revision")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except IncidentctlError:
        raise IncidentctlError(
            f"--base {ref}: no such commit or branch in {root}",
            hint="fetch it first (git fetch origin main) or name an existing ref",
        ) from None


_REGULAR_MODES = ("100644", "100755")  # a symlink is mode 120000: its target, never followed


def files_at(root: Path, ref: str, folder: str, name: str) -> dict[str, bytes]:
    """Every file called `name` under `folder` at `ref`, keyed by repository path.

    Only regular files within the size limit, as in the working tree: a symlink blob (mode
    120000) or an oversized blob at the base is left out, like any base file that does not
    parse (it is the base's problem, not this change's), and never read into memory."""
    commit = resolve(root, ref)
    prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
    listing = _git(root, "ls-tree", "-r", "-z", "-l", "--full-tree", commit, "--", prefix + folder)
    wanted: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.decode("utf-8", "surrogateescape").partition("\t")
        mode, kind, sha, length = meta.split()
        if (
            kind == "blob"
            and mode in _REGULAR_MODES
            and int(length) <= MAX_BYTES
            and path.rsplit("/", 1)[-1] == name
        ):
            wanted.append((path.removeprefix(prefix), sha))
    if not wanted:
        return {}
    batch = _git(root, "cat-file", "--batch", stdin="".join(f"{s}\n" for _, s in wanted).encode())
    out: dict[str, bytes] = {}
    offset = 0
    for path, _sha in wanted:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        start = header_end + 1
        out[path] = batch[start : start + size]
        offset = start + size + 1
    return out


def head_commit(root: Path) -> str | None:
    try:
        return _git(root, "rev-parse", "HEAD").decode().strip()
    except IncidentctlError:
        return None


_APPROVED_LINE = r"^status:[[:space:]]*[\"']?approved"  # git's -G is an extended regex


def approval_times(root: Path, folder: str, name: str) -> dict[str, datetime]:
    """When each PIR was approved: the newest commit on the first-parent line (the merge of
    the approving PR, or the squashed commit) that changed its top-level `status: approved`.

    One `git log` pass over the history; repository-relative paths. Empty when `root` is not
    in a git repository. A shallow clone only knows its own commits: the caller says so.
    """
    try:
        prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
        raw = _git(
            root,
            "log",
            "--first-parent",
            "-G",
            _APPROVED_LINE,
            "--format=%x00%cI",
            "--name-only",
            "--",
            f":(top,glob){prefix}{folder}/**/{name}",
        )
    except IncidentctlError:
        return {}
    out: dict[str, datetime] = {}
    for chunk in raw.decode("utf-8", "surrogateescape").split("\0")[1:]:
        stamp, _, names = chunk.partition("\n")
        when = datetime.fromisoformat(stamp.strip()).astimezone(UTC)
        for path in names.split("\n"):
            path = path.strip()
            if path and path.startswith(prefix):
                out.setdefault(path.removeprefix(prefix), when)  # newest first
    return out


def is_shallow(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-shallow-repository").decode().strip() == "true"
    except IncidentctlError:
        return False


def merge_text(base: str, ours: str, theirs: str, labels: tuple[str, str, str]) -> tuple[str, bool]:
    """git's own line merge of three texts (`git merge-file`): the result, with conflict
    markers where both sides changed the same lines, and whether it merged cleanly.

    `labels`: the names on the markers for ours, base, theirs."""
    with tempfile.TemporaryDirectory(prefix="incidentctl-merge-") as folder:
        names = []
        for name, text in zip(("ours", "base", "theirs"), (ours, base, theirs), strict=True):
            path = Path(folder) / name
            path.write_bytes(text.encode("utf-8", "surrogateescape"))
            names.append(str(path))
        try:
            result = subprocess.run(
                ["git", "merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2],
                 *names],
                cwd=folder,
                capture_output=True,
                check=False,
            )  # fmt: skip
        except FileNotFoundError:
            raise IncidentctlError(
                "git is not installed", hint="the merge driver needs git"
            ) from None
    if result.returncode < 0 or result.returncode > 127:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise IncidentctlError(f"git merge-file failed: {message}")
    return result.stdout.decode("utf-8", "surrogateescape"), result.returncode == 0


def common_dir(root: Path) -> Path | None:
    """The git directory every worktree of the checkout at `root` shares (where git keeps
    what is never committed); None when `root` is not in a git checkout or git is missing."""
    try:
        out = _git(root, "rev-parse", "--git-common-dir").decode("utf-8", "surrogateescape")
    except (IncidentctlError, OSError):
        return None
    return (root / out.strip()).resolve() if out.strip() else None


def work_tree(path: Path) -> Path | None:
    """The top of the git work tree `path` is in (or would be in, for a folder not made yet);
    None outside one, or without git."""
    existing = path.absolute()
    while not existing.is_dir() and existing != existing.parent:
        existing = existing.parent
    try:
        top = _git(existing, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape")
    except (IncidentctlError, OSError):
        return None
    return Path(top.strip()) if top.strip() else None


def init_repository(path: Path) -> None:
    """`git init` on branch main, the branch the scaffolded workflows run on."""
    _git(path, "init", "-q", "--initial-branch=main")


# -- the delivery record's ref, and --pull ------------------------------------------------------
_RECORD_IDENTITY = {
    "GIT_AUTHOR_NAME": "incidentctl",
    "GIT_AUTHOR_EMAIL": "incidentctl@localhost",
    "GIT_COMMITTER_NAME": "incidentctl",
    "GIT_COMMITTER_EMAIL": "incidentctl@localhost",
}


def _run(
    root: Path, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except FileNotFoundError:
        raise IncidentctlError("git is not installed") from None


def remote_url(root: Path, name: str) -> str | None:
    """The URL of remote `name`, or None when there is no such remote (or no git)."""
    try:
        done = _run(root, "remote", "get-url", name)
    except IncidentctlError:
        return None
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


def fetch_ref(root: Path, remote: str, ref: str) -> str | None:
    """Fetch `ref` from `remote` into the same local ref (forced: the record's commits do not
    descend from one another); its commit, or None when the remote has no such ref."""
    done = _run(root, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
                f"+{ref}:{ref}")  # fmt: skip
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        if "couldn't find remote ref" in message or "could not find remote ref" in message:
            _run(root, "update-ref", "-d", ref)
            return None
        raise IncidentctlError(
            f"git fetch {remote} {ref} failed: {message}",
            hint="the delivery record lives on that remote; check the network and credentials",
        )
    return local_ref(root, ref)


def local_ref(root: Path, ref: str) -> str | None:
    done = _run(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return done.stdout.decode().strip() or None if done.returncode == 0 else None


def blob_at(root: Path, commit: str, name: str) -> bytes | None:
    done = _run(root, "cat-file", "blob", f"{commit}:{name}")
    return done.stdout if done.returncode == 0 else None


def commit_file(root: Path, name: str, content: bytes, message: str) -> str:
    """A parentless commit holding one file (the object written, no ref moved)."""
    blob = _git(root, "hash-object", "-w", "--stdin", stdin=content).decode().strip()
    tree = _git(root, "mktree", stdin=f"100644 blob {blob}\t{name}\n".encode()).decode().strip()
    done = _run(root, "commit-tree", tree, "-m", message, env=_RECORD_IDENTITY)
    if done.returncode != 0:
        raise IncidentctlError(f"git commit-tree failed: {done.stderr.decode().strip()}")
    return done.stdout.decode().strip()


def push_lease(root: Path, remote: str, commit: str, ref: str, expected: str | None) -> bool:
    """Set `ref` on `remote` to `commit` only if it is still `expected` (None: absent): an
    atomic compare-and-swap. False when someone else moved it first."""
    lease = f"--force-with-lease={ref}:{expected or ''}"
    done = _run(root, "push", "--quiet", "--porcelain", "--no-verify", lease, remote,
                f"{commit}:{ref}")  # fmt: skip
    if done.returncode == 0:
        _run(root, "update-ref", ref, commit)
        return True
    said = (done.stdout + done.stderr).decode("utf-8", "replace")
    lost = ("[rejected]", "stale info", "fetch first", "failed to update ref", "cannot lock ref")
    if any(sign in said for sign in lost):  # the last two: a push to the ref at the same moment
        return False
    raise IncidentctlError(
        f"git push {remote} {ref} failed: {said.strip()}",
        hint="the delivery record is claimed by a push to that ref: the remote must accept "
        "pushes from here (in GitHub Actions: contents: write)",
    )


def pull_fast_forward(root: Path) -> str:
    """`git pull --ff-only` of the checkout's branch; what git said (empty when current)."""
    done = _run(root, "pull", "--ff-only", "--quiet", "--no-rebase")
    if done.returncode != 0:
        raise IncidentctlError(
            f"git pull --ff-only failed: {done.stderr.decode('utf-8', 'replace').strip()}",
            hint="--pull only fast-forwards: commit or drop local changes to this checkout",
        )
    return done.stdout.decode("utf-8", "replace").strip()


def last_commit_time(root: Path) -> datetime | None:
    """When HEAD was committed; None outside git or before the first commit."""
    done = _run(root, "log", "-1", "--format=%cI", "HEAD")
    text = done.stdout.decode().strip() if done.returncode == 0 else ""
    return datetime.fromisoformat(text).astimezone(UTC) if text else None


# -- the receiver's commits and pushes (intake serve) -----------------------------------------


def commit(root: Path, paths: list[Path], message: str, author: str) -> str:
    """Commit exactly `paths` (repository-relative) as `author`; the new commit's SHA.

    The author's name is the receiver's identity; its e-mail the repository's user.email,
    else a placeholder that names the tool."""
    configured = _run(root, "config", "user.email").stdout.decode().strip()
    email = configured or "intake@incidentctl.invalid"
    env = {
        "GIT_AUTHOR_NAME": author,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": author,
        "GIT_COMMITTER_EMAIL": email,
    }
    names = [str(p) for p in paths]
    _git(root, "add", "--", *names)
    done = _run(root, "commit", "-q", "--no-verify", "-m", message, "--", *names, env=env)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        raise IncidentctlError(f"git commit failed: {said}")
    return _git(root, "rev-parse", "HEAD").decode().strip()


def branch(root: Path) -> str:
    """The branch checked out (the receiver pushes it to the same name on the remote)."""
    name = _git(root, "symbolic-ref", "--short", "HEAD").decode().strip()
    if not name:
        raise IncidentctlError("HEAD is detached", hint="check out the branch to commit on")
    return name


def push(root: Path, remote: str, name: str) -> tuple[bool, str]:
    """Push `name` to `remote`: (pushed, git's message). A rejection is not an error: the
    caller fetches, resets and applies its deliveries again."""
    done = _run(root, "push", "--quiet", remote, f"HEAD:refs/heads/{name}")
    return done.returncode == 0, (done.stderr or done.stdout).decode("utf-8", "replace").strip()


def reset_to_remote(root: Path, remote: str, name: str) -> str:
    """Fetch `remote`'s `name` and reset the work tree and the branch to it; its SHA."""
    _git(root, "fetch", "--quiet", remote, name)
    _git(root, "reset", "--quiet", "--hard", "FETCH_HEAD")
    return _git(root, "rev-parse", "HEAD").decode().strip()


def is_clean(root: Path, folders: list[str]) -> bool:
    """No uncommitted change under `folders` (what a receiver needs before it resets)."""
    return not _git(root, "status", "--porcelain", "--", *folders).strip()


# -- a change made from a comment: commit and push ------------------------------------------
PUSH_ATTEMPTS = 5  # pushes tried while the branch keeps moving, a second more apart each


def _auth_env(root: Path, remote: str, token: str | None) -> dict[str, str]:
    """What git's environment needs for a push to `remote`: with a token and an https
    remote, the Authorization header actions/checkout would set, passed in the environment
    (never on the command line, never written to .git/config)."""
    url = remote_url(root, remote) if token else None
    parts = urlsplit(url or "")
    if not token or parts.scheme != "https" or not parts.hostname:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.https://{parts.hostname}/.extraheader",
        "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
        "GIT_TERMINAL_PROMPT": "0",
    }


def _checked(root: Path, *args: str, env: dict[str, str]) -> None:
    done = _run(root, *args, env=env)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise IncidentctlError(f"git {' '.join(args[:2])} failed: {message}")


def commit_and_push(
    root: Path,
    paths: list[str],
    message: str,
    *,
    remote: str,
    branch: str,
    token: str | None,
    warn: Callable[[str], None],
    attempts: int = PUSH_ATTEMPTS,
) -> str:
    """Commit `paths` (relative to `root`) and push the commit to `remote`'s `branch`; when
    the branch moved meanwhile, rebase onto it (incident.md through the merge driver, when
    configured) and push again, at most `attempts` times, never forced. The commit pushed;
    IncidentctlError when it could not be pushed (the commit stays local)."""
    env = _auth_env(root, remote, token)
    _git(root, "add", "--", *paths)
    _git(root, "commit", "-q", "-m", message, "--", *paths)
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            warn(f"{branch} moved meanwhile; rebasing onto it (attempt {attempt} of {attempts})")
            time.sleep(attempt - 1)
            try:
                _checked(root, "pull", "--rebase", "-q", remote, branch, env=env)
            except IncidentctlError as exc:
                with contextlib.suppress(IncidentctlError):  # none began: the pull failed
                    _git(root, "rebase", "--abort")
                raise IncidentctlError(
                    f"could not rebase the change onto {remote}/{branch}: {exc.message}",
                    hint="the change is committed locally only; apply it again",
                ) from None
        try:
            _checked(root, "push", "-q", remote, f"HEAD:{branch}", env=env)
        except IncidentctlError as exc:
            if "rejected" in exc.message or "fetch first" in exc.message:
                continue  # the branch moved: rebase and try again
            raise IncidentctlError(
                f"could not push to {remote}/{branch}: {exc.message}",
                hint="the change is committed locally only; check the remote and the token "
                "(contents: write)",
            ) from None
        return _git(root, "rev-parse", "HEAD").decode().strip()
    raise IncidentctlError(
        f"{remote}/{branch} kept moving: not pushed after {attempts} attempts",
        hint="the change is committed locally only; apply it again",
    )
