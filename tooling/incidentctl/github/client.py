"""The only module that talks to GitHub (through PyGithub): retries, rate limits, dry runs.

Settings come from the standard Actions environment: GITHUB_REPOSITORY (owner/name),
GITHUB_TOKEN, GITHUB_API_URL (GitHub Enterprise Server, or a test double), GITHUB_SERVER_URL
and GITHUB_REF_NAME (for links to files). A dry run without GITHUB_REPOSITORY is offline
(`OfflineGitHub`): it reads nothing and prints everything it would create, comment or close.

Every request goes through `GitHub.call`, which:

* retries 5xx answers and network errors (reset, refused, timeout) with exponential backoff;
* waits out primary and secondary rate limits (403/429 with `Retry-After`, or
  `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset`);
* gives up, with a clear message, after `attempts` tries or once the total time budget
  (`INCIDENTCTL_GITHUB_BUDGET`, seconds, default 300) would be exceeded;
* turns 401, 403 and 404 into messages that say what to fix, never a traceback.

Creating is not idempotent on GitHub, so a create is never retried blindly: `create_once`
looks for the object's hidden marker first, and after a failed or timed-out create it looks
again before trying once more (the create may have landed even though the answer was lost).
Clock and sleep come from `CLOCK`, which tests replace so that nothing really waits.

Markers are only trusted in comments by `trusted_authors`: the identity the tool posts as
(`github-actions[bot]` with a workflow token, which `GET /user` refuses with 403; the token's
own login when `GET /user` answers) and whoever `INCIDENTCTL_TRUSTED_AUTHORS` adds. Anyone who
can comment could otherwise paste a marker and have incidentctl adopt their comment.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.Issue import Issue
from github.IssueComment import IssueComment
from github.Repository import Repository

from incidentctl.core.errors import IncidentctlError

T = TypeVar("T")
Say = Callable[[str], None]

_TRANSIENT_NETWORK = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_PERMISSION_HINT = (
    "give the workflow `permissions: issues: write` (and `pull-requests: write` for "
    "pr-comment), or use a token that can write issues in this repository"
)
WORKFLOW_BOT = "github-actions[bot]"  # who a workflow's GITHUB_TOKEN comments as
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


class Clock:
    """Wall time, a monotonic clock and sleep: replaced by a fake in tests."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK = Clock()


@dataclass(frozen=True)
class Settings:
    repository: str
    token: str | None
    api_url: str = "https://api.github.com"
    server_url: str = "https://github.com"
    ref_name: str = "main"
    timeout: int = 15
    budget: float = 300.0
    attempts: int = 6
    write_interval: float = 1.0  # GitHub asks for one second between writes
    dry_run: bool = False
    trusted: tuple[str, ...] = ()  # logins trusted besides the tool's own identity

    @property
    def offline(self) -> bool:
        """A dry run with no GITHUB_REPOSITORY: nothing to read, so GitHub is not contacted."""
        return not self.repository

    def file_url(self, rel: str) -> str:
        if self.offline:
            return rel
        return f"{self.server_url.rstrip('/')}/{self.repository}/blob/{self.ref_name}/{rel}"


def settings_from_env(env: Mapping[str, str], *, dry_run: bool = False) -> Settings:
    """Read the Actions environment; refuse clearly when the repository or token is missing."""
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if dry_run and not repository:  # a local preview: see OfflineGitHub
        return Settings(repository="", token=None, dry_run=True)
    if not repository or repository.count("/") != 1:
        raise IncidentctlError(
            "GITHUB_REPOSITORY is not set to owner/name"
            + (f" (it is {repository!r})" if repository else ""),
            hint="GitHub Actions sets it; elsewhere: export GITHUB_REPOSITORY=owner/name",
        )
    token = env.get("GITHUB_TOKEN", "").strip() or None
    if token is None and not dry_run:
        raise IncidentctlError(
            "GITHUB_TOKEN is not set",
            hint="in a workflow: env: GITHUB_TOKEN: ${{ github.token }}; "
            "or try it without a token: --dry-run",
        )
    return Settings(
        repository=repository,
        token=token,
        api_url=env.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
        server_url=env.get("GITHUB_SERVER_URL", "").strip() or "https://github.com",
        ref_name=env.get("GITHUB_REF_NAME", "").strip() or "main",
        timeout=int(_number(env, "INCIDENTCTL_GITHUB_TIMEOUT", 15)),
        budget=_number(env, "INCIDENTCTL_GITHUB_BUDGET", 300),
        write_interval=_number(env, "INCIDENTCTL_GITHUB_WRITE_INTERVAL", 1.0),
        dry_run=dry_run,
        trusted=trusted_from(env.get("INCIDENTCTL_TRUSTED_AUTHORS", "")),
    )


def trusted_from(text: str) -> tuple[str, ...]:
    """The logins of INCIDENTCTL_TRUSTED_AUTHORS (commas or spaces between, `@` optional)."""
    logins = [w.removeprefix("@") for w in re.split(r"[\s,]+", text.strip()) if w]
    bad = [w for w in logins if not _LOGIN.fullmatch(w)]
    if bad:
        raise IncidentctlError(
            f"INCIDENTCTL_TRUSTED_AUTHORS: {bad[0]!r} is not a GitHub login",
            hint="give logins separated by commas, e.g. "
            "INCIDENTCTL_TRUSTED_AUTHORS=release-bot,octocat (apps end in [bot])",
        )
    return tuple(logins)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise IncidentctlError(f"{name}={text!r} is not a number of seconds") from None


class _Transient(Exception):
    """A failure worth trying again, after `wait` seconds."""

    def __init__(self, reason: str, wait: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class GitHub:
    """One repository on one GitHub, with retries, rate limits and dry runs."""

    def __init__(self, settings: Settings, *, say: Say, clock: Clock | None = None) -> None:
        self.settings = settings
        self.say = say
        self.clock = clock or CLOCK
        self.started = self.clock.monotonic()
        self._last_write: float | None = None
        self._repo: Repository | None = None
        self._trusted: frozenset[str] | None = None
        self._client = Github(
            auth=Auth.Token(settings.token) if settings.token else None,
            base_url=settings.api_url.rstrip("/"),
            timeout=settings.timeout,
            retry=None,  # retries are ours: counted, bounded and with an injectable sleep
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=100,
        )

    # -- the repository ----------------------------------------------------------------------
    @property
    def repo(self) -> Repository:
        if self._repo is None:
            name = self.settings.repository
            try:
                self._repo = self.call(
                    f"open repository {name}", lambda: self._client.get_repo(name)
                )
            except _NotFound:
                raise IncidentctlError(
                    f"repository {name} not found on {self.settings.api_url}, "
                    "or the token cannot see it",
                    hint="check GITHUB_REPOSITORY and that the token has access to it",
                ) from None
        return self._repo

    @property
    def trusted_authors(self) -> frozenset[str]:
        """The logins (lower case) whose comments' markers count: see the module docstring."""
        if self._trusted is None:
            logins = {WORKFLOW_BOT, *self.settings.trusted}
            own = self.identity()
            if own:
                logins.add(own)
            self._trusted = frozenset(login.lower() for login in logins)
        return self._trusted

    def trusts(self, login: str | None) -> bool:
        return login is not None and login.lower() in self.trusted_authors

    def identity(self) -> str | None:
        """The token's own login, or None for a workflow or app token (`GET /user`: 403)."""
        if not self.settings.token:
            return None
        try:
            login = self.call("find who the token is (GET /user)", self._own_login)
        except (_Forbidden, _NotFound):
            return None
        return login or None

    def _own_login(self) -> str:
        return str(self._client.get_user().login)

    # -- requests ------------------------------------------------------------------------
    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one request (or one paginated listing), retrying what is worth retrying."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except GithubException as exc:
                failure = self._classify(what, exc)
            except _TRANSIENT_NETWORK as exc:
                failure = _Transient(f"network error: {type(exc).__name__}", None)
            self._wait(what, failure, attempt)

    def write(self, what: str, fn: Callable[[], T]) -> T | None:
        """A change: printed, and only printed, in a dry run; paced one per write_interval."""
        if self.settings.dry_run:
            self.say(f"would {what}")
            return None
        self._pace()
        result = self.call(what, fn)
        self.say(what)
        return result

    def create_once(
        self, what: str, find: Callable[[], T | None], create: Callable[[], T]
    ) -> tuple[T | None, bool]:
        """(object, created): look for it, create it if missing, and after a lost answer
        look again before creating again, so a retry never makes a duplicate."""
        attempt = 0
        while True:
            attempt += 1
            found = find()
            if found is not None:
                return found, False
            if self.settings.dry_run:
                self.say(f"would {what}")
                return None, True
            self._pace()
            try:
                created = self._once(what, create)
            except _Transient as failure:
                self._wait(what, failure, attempt)
                continue
            self.say(what)
            return created, True

    def _once(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except GithubException as exc:
            raise self._classify(what, exc) from None
        except _TRANSIENT_NETWORK as exc:
            raise _Transient(f"network error: {type(exc).__name__}", None) from None

    def _pace(self) -> None:
        now = self.clock.monotonic()
        if self._last_write is not None:
            gap = self.settings.write_interval - (now - self._last_write)
            if gap > 0:
                self.clock.sleep(gap)
        self._last_write = self.clock.monotonic()

    def _classify(self, what: str, exc: GithubException) -> _Transient:
        """A retryable failure, or raise the clear message for one that is not."""
        status = exc.status
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = _message(exc)
        if status == 401 and not self.settings.token:
            raise IncidentctlError(
                f"{what}: GitHub needs a token for this (401 {message or 'unauthorized'})",
                hint="export GITHUB_TOKEN (a dry run without one only works on public "
                "repositories)",
            )
        if status == 401:
            raise IncidentctlError(
                f"{what}: GitHub rejected the token (401 {message or 'bad credentials'})",
                hint="check GITHUB_TOKEN; an expired or revoked token must be replaced",
            )
        limited = status == 429 or (
            status == 403
            and (
                "retry-after" in headers
                or headers.get("x-ratelimit-remaining") == "0"
                or "rate limit" in message.lower()
            )
        )
        if limited:
            return _Transient(f"rate limited ({status}: {message})", self._limit_wait(headers))
        if status == 403:
            raise _Forbidden(f"{what}: the token is not allowed to do this (403 {message})")
        if status == 404:
            raise _NotFound(what)
        if status >= 500:
            return _Transient(f"GitHub answered {status}", None)
        raise IncidentctlError(f"{what}: GitHub refused it ({status} {message})")

    def _limit_wait(self, headers: Mapping[str, str]) -> float:
        if "retry-after" in headers:
            try:
                return max(1.0, float(headers["retry-after"]))
            except ValueError:
                pass
        if "x-ratelimit-reset" in headers:
            try:
                return max(1.0, float(headers["x-ratelimit-reset"]) - self.clock.time() + 1)
            except ValueError:
                pass
        return 60.0  # GitHub's advice for a secondary limit without a header

    def _wait(self, what: str, failure: _Transient, attempt: int) -> None:
        wait = failure.wait if failure.wait is not None else min(60.0, 2.0 ** (attempt - 1))
        spent = self.clock.monotonic() - self.started
        if attempt >= self.settings.attempts or spent + wait > self.settings.budget:
            raise IncidentctlError(
                f"{what}: gave up after {attempt} attempt{'s' * (attempt > 1)} ({failure.reason})",
                hint=f"GitHub at {self.settings.api_url} is failing or rate limiting; "
                "the next run picks up where this one stopped (nothing is duplicated)",
            )
        self.say(f"retrying in {wait:g}s: {what}: {failure.reason}")
        self.clock.sleep(wait)

    # -- issues and comments --------------------------------------------------------------
    def issues_labelled(self, label: str) -> list[Ticket]:
        """Every issue (open and closed) with `label`: listed, never searched (search lags)."""
        found = self.call(
            f"list issues labelled {label}",
            lambda: list(self.repo.get_issues(state="all", labels=[label])),
        )
        return [_ticket(i) for i in found]

    def issue(self, number: int) -> Ticket:
        try:
            return _ticket(self.call(f"get #{number}", lambda: self.repo.get_issue(number)))
        except _NotFound:
            raise IncidentctlError(
                f"issue or pull request #{number} not found in {self.settings.repository}"
            ) from None

    def create_issue(
        self,
        what: str,
        find: Callable[[], Ticket | None],
        *,
        title: str,
        body: str,
        labels: list[str],
        assignees: list[str],
    ) -> tuple[Ticket | None, bool]:
        def create() -> Ticket:
            return _ticket(
                self.repo.create_issue(title=title, body=body, labels=labels, assignees=assignees)
            )

        return self.create_once(what, find, create)

    def edit_issue(self, ticket: Ticket, what: str, **changes: Any) -> None:
        issue: Issue = ticket.handle
        self.write(what, lambda: issue.edit(**changes))

    def comments(self, ticket: Ticket) -> list[Note]:
        issue: Issue = ticket.handle
        found = self.call(f"list comments of #{ticket.number}", lambda: list(issue.get_comments()))
        return [Note(c.id, c.body or "", c.html_url, c, _login(c.user)) for c in found]

    def create_comment(
        self, ticket: Ticket, what: str, find: Callable[[], Note | None], body: str
    ) -> tuple[Note | None, bool]:
        issue: Issue = ticket.handle

        def create() -> Note:
            c = issue.create_comment(body)
            return Note(c.id, c.body or "", c.html_url, c, _login(c.user))

        return self.create_once(what, find, create)

    def edit_comment(self, note: Note, what: str, body: str) -> None:
        comment: IssueComment = note.handle
        self.write(what, lambda: comment.edit(body))

    def delete_comment(self, note: Note, what: str) -> None:
        comment: IssueComment = note.handle
        with contextlib.suppress(_NotFound):  # already deleted by a concurrent run
            self.write(what, comment.delete)

    def ensure_labels(self, names: list[str], colors: Mapping[str, str]) -> None:
        """Create the labels that do not exist yet (one listing, then one create each)."""
        existing = {
            label.name for label in self.call("list labels", lambda: list(self.repo.get_labels()))
        }
        for name in names:
            if name in existing:
                continue
            color = colors.get(name, "ededed")
            try:
                self.write(f"create label {name}", _label_maker(self.repo, name, color))
            except IncidentctlError as exc:
                if "422" not in exc.message:  # 422: created meanwhile by a concurrent run
                    raise
            existing.add(name)

    def permission(self, login: str) -> str:
        """`login`'s permission on the repository: admin, write, read or none (GET
        /repos/{owner}/{repo}/collaborators/{user}/permission; maintain reads as write)."""
        try:
            found = self.call(
                f"check the permission of {login}",
                lambda: self.repo.get_collaborator_permission(login),
            )
        except _NotFound:
            return "none"
        return str(found)

    def react(self, ticket: Ticket, comment_id: int, content: str) -> None:
        """React to a comment of `ticket` (+1, confused, eyes, ...): GitHub keeps one
        reaction of each kind per user, so a retry adds nothing."""
        issue: Issue = ticket.handle

        def react() -> object:
            return issue.get_comment(comment_id).create_reaction(content)

        self.write(f"react {content} to comment {comment_id} on #{ticket.number}", react)

    def can_assign(self, login: str) -> bool:
        try:
            return self.call(f"check assignee {login}", lambda: self.repo.has_in_assignees(login))
        except _NotFound:
            return False


@dataclass(frozen=True)
class Ticket:
    """An issue (or pull request) as the sync modules see it, without PyGithub types."""

    number: int
    title: str
    body: str
    state: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    closed_at: datetime | None
    state_reason: str | None
    url: str
    handle: Any = field(repr=False, compare=False)


@dataclass(frozen=True)
class Note:
    """An issue comment; `author` is the login that wrote it (None for a deleted user)."""

    id: int
    body: str
    url: str
    handle: Any = field(repr=False, compare=False)
    author: str | None = None


def _login(user: Any) -> str | None:
    return getattr(user, "login", None) if user is not None else None


def _ticket(issue: Issue) -> Ticket:
    closed = issue.closed_at
    if closed is not None and closed.tzinfo is None:
        closed = closed.replace(tzinfo=UTC)
    return Ticket(
        number=issue.number,
        title=issue.title or "",
        body=issue.body or "",
        state=issue.state or "open",
        labels=tuple(label.name for label in issue.labels),
        assignees=tuple(a.login for a in issue.assignees),
        closed_at=closed,
        state_reason=issue.state_reason,
        url=issue.html_url or "",
        handle=issue,
    )


def _label_maker(repo: Repository, name: str, color: str) -> Callable[[], object]:
    return lambda: repo.create_label(name, color)


class _Forbidden(IncidentctlError):
    """403 without a rate limit: a missing permission (or `GET /user` with a workflow token)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=_PERMISSION_HINT)


class _NotFound(IncidentctlError):
    """404: callers that know what was missing say so; otherwise this message stands."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what}: not found on GitHub (404)",
            hint="was it deleted meanwhile? the next run finds the rest again by marker",
        )


def _message(exc: GithubException) -> str:
    data: Any = exc.data
    if isinstance(data, Mapping) and data.get("message"):
        return str(data["message"])
    return exc.message or ""


class OfflineGitHub(GitHub):
    """A dry run with no GitHub settings: a repository with no incidentctl issues, labels or
    comments yet, so every sync prints everything it would create, comment or close, and
    nothing is sent or read (a preview on a laptop at 3 a.m., before any setup)."""

    def __init__(self, settings: Settings, *, say: Say, clock: Clock | None = None) -> None:
        super().__init__(settings, say=say, clock=clock)
        say(
            "dry run without GITHUB_REPOSITORY: GitHub is not contacted; shown as for a "
            "repository with no incidentctl issues yet"
        )

    @property
    def repo(self) -> Repository:
        raise AssertionError("an offline dry run never opens the repository")

    def identity(self) -> str | None:
        return None

    def issues_labelled(self, label: str) -> list[Ticket]:
        return []

    def issue(self, number: int) -> Ticket:
        """An issue the files name (`#12`): its title and state are not known offline."""
        return Ticket(number, "", "", "open", (), (), None, None, f"#{number}", handle=None)

    def comments(self, ticket: Ticket) -> list[Note]:
        return []

    def ensure_labels(self, names: list[str], colors: Mapping[str, str]) -> None:
        self.say(f"would create labels that do not exist yet: {', '.join(names)}")

    def permission(self, login: str) -> str:
        """Not known offline: shown as for someone with write access."""
        self.say(f"would check the permission of {login} (offline: taken as write access)")
        return "write"

    def can_assign(self, login: str) -> bool:
        return True


def connect(*, dry_run: bool, say: Say, env: Mapping[str, str] | None = None) -> GitHub:
    """The adapter for the repository this workflow runs in (offline for a dry run without
    GITHUB_REPOSITORY)."""
    settings = settings_from_env(os.environ if env is None else env, dry_run=dry_run)
    if settings.offline:
        return OfflineGitHub(settings, say=say)
    return GitHub(settings, say=say)
