"""A stateful GitHub REST API double served over HTTP on 127.0.0.1, for PyGithub to talk to.

It implements what incidentctl's GitHub adapter calls: the repository, issues (create, get,
list with state/labels filters and Link-header pagination, edit), labels, assignees, issue
comments (create, get, list, edit, delete) and their reactions, a user's permission on the
repository (`State.permissions`), and sends rate-limit headers. Faults are injected per
test with `fail(kind, on=N)`: the Nth request (counting from 1) that matches answers with the
fault instead (or, for "slow", after doing the work).

Each token is someone (`State.tokens`): what it creates is by that user, and `GET /user`
answers with the login, except for a workflow-style token (`ghs_...`), which GitHub refuses
with 403 "Resource not accessible by integration"; its comments are by github-actions[bot].
Tests post as a stranger with STRANGER_TOKEN.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "ghs_workflow-token"  # a workflow's GITHUB_TOKEN: github-actions[bot], no GET /user
PERSONAL_TOKEN = "ghp_responder-token"  # a responder's personal access token
STRANGER_TOKEN = "ghp_stranger-token"  # anyone who can comment on a public repository
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
PRIMARY = "API rate limit exceeded for installation ID 1."
NO_ACCESS = "Resource not accessible by integration"


@dataclass
class Fault:
    kind: str  # 500 | 502 | secondary | 429 | primary | slow | reset
    on: int  # the Nth matching request
    method: str | None = None
    path: str | None = None  # a substring of the path
    seen: int = 0
    retry_after: int = 7
    fired: bool = False
    then: Callable[[], None] | None = None  # "crash": called after the work, before the answer


@dataclass
class State:
    owner: str = "parcelly"
    name: str = "incidents"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    assignable: set[str] = field(default_factory=lambda: {"alice", "bob"})
    # GET collaborators/{user}/permission: admin, write, read or none (maintain reads as write)
    permissions: dict[str, str] = field(
        default_factory=lambda: {"octo-responder": "write", "alice": "admin", "mallory": "read"}
    )
    next_number: int = 1
    next_comment: int = 1000
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    page_size: int = 3
    read_only: bool = False
    slow_seconds: float = 2.0
    tokens: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            TOKEN: BOT,
            PERSONAL_TOKEN: {"login": "octo-responder", "id": 7, "type": "User"},
            STRANGER_TOKEN: {"login": "mallory", "id": 66, "type": "User"},
        }
    )


class GitHubDouble:
    """Start with `start()`; `url` is the base URL to give PyGithub (GITHUB_API_URL)."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.now = 1_800_000_000  # the double's epoch clock for X-RateLimit-Reset

    @property
    def repository(self) -> str:
        return f"{self.state.owner}/{self.state.name}"

    def start(self) -> GitHubDouble:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- test helpers ---------------------------------------------------------------------
    def fail(
        self,
        kind: str,
        *,
        on: int = 1,
        method: str | None = None,
        path: str | None = None,
        retry_after: int = 7,
        then: Callable[[], None] | None = None,
    ) -> Fault:
        fault = Fault(kind, on, method, path, retry_after=retry_after, then=then)
        self.state.faults.append(fault)
        return fault

    def add_pull(self, title: str = "Declare INC") -> int:
        author = {"login": "octo-responder", "id": 7, "type": "User"}  # a human opens PRs
        number = self._new_issue({"title": title, "body": "", "labels": []}, author)["number"]
        self.state.issues[number]["pull_request"] = {"url": f"{self.url}/pulls/{number}"}
        return int(number)

    def issues(self, label: str | None = None) -> list[dict[str, Any]]:
        return [
            i
            for i in self.state.issues.values()
            if "pull_request" not in i and (label is None or label in _names(i))
        ]

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.state.comments.values() if c["issue"] == number]

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.state.requests if r[0] in ("POST", "PATCH", "DELETE")]

    # -- the API ---------------------------------------------------------------------------
    def _repo_json(self) -> dict[str, Any]:
        base = f"{self.url}/repos/{self.repository}"
        return {
            "id": 1,
            "name": self.state.name,
            "full_name": self.repository,
            "owner": {"login": self.state.owner, "id": 1, "type": "Organization"},
            "url": base,
            "html_url": f"https://github.example/{self.repository}",
            "default_branch": "main",
            "permissions": {"admin": False, "push": not self.state.read_only, "pull": True},
        }

    def _issue_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        number = issue["number"]
        base = f"{self.url}/repos/{self.repository}/issues/{number}"
        out = {k: v for k, v in issue.items() if k != "label_names"}
        out.update(
            url=base,
            comments_url=f"{base}/comments",
            html_url=f"https://github.example/{self.repository}/issues/{number}",
            labels=[self._label(name) for name in issue["label_names"]],
            assignees=[{"login": a, "id": 2, "type": "User"} for a in issue["assignees"]],
            comments=len(self.comments_on(number)),
        )
        return out

    def _label(self, name: str) -> dict[str, Any]:
        return self.state.labels.get(name) or {"name": name, "color": "ededed"}

    def _new_issue(self, data: dict[str, Any], user: dict[str, Any] = BOT) -> dict[str, Any]:
        number = self.state.next_number
        self.state.next_number += 1
        names = [str(x) for x in data.get("labels") or []]
        for n in names:
            self.state.labels.setdefault(n, {"name": n, "color": "ededed"})
        issue = {
            "id": 10_000 + number,
            "number": number,
            "title": data["title"],
            "body": data.get("body") or "",
            "state": "open",
            "state_reason": None,
            "label_names": names,
            "assignees": [a for a in data.get("assignees") or [] if a in self.state.assignable],
            "closed_at": None,
            "created_at": "2026-11-27T16:00:00Z",
            "user": dict(user),
        }
        self.state.issues[number] = issue
        return issue

    def handle(
        self, method: str, raw_path: str, body: Any, token: str = TOKEN
    ) -> tuple[int, Any, dict[str, str]]:
        parsed = urllib.parse.urlsplit(raw_path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        path = parsed.path.rstrip("/")
        prefix = f"/repos/{self.repository}"
        user = self.state.tokens[token]
        if path == "/user" and method == "GET":
            if token.startswith("ghs_"):  # GitHub: an installation token is no user
                return 403, {"message": NO_ACCESS, "status": "403"}, {}
            return 200, {**user, "url": f"{self.url}/users/{user['login']}"}, {}
        if path == prefix and method == "GET":
            return 200, self._repo_json(), {}
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}, {}
        rest = path[len(prefix) :]
        writing = method in ("POST", "PATCH", "DELETE")
        if writing and self.state.read_only:
            return 403, {"message": NO_ACCESS}, {}
        parts = rest.strip("/").split("/")
        if parts == ["issues"] and method == "GET":
            found = list(self.state.issues.values())
            wanted = query.get("state", "open")
            if wanted != "all":
                found = [i for i in found if i["state"] == wanted]
            if query.get("labels"):
                need = query["labels"].split(",")
                found = [i for i in found if all(n in i["label_names"] for n in need)]
            found.sort(key=lambda i: -int(i["number"]))
            return self._page(path, query, [self._issue_json(i) for i in found])
        if parts == ["issues"] and method == "POST":
            return 201, self._issue_json(self._new_issue(body, user)), {}
        if len(parts) == 2 and parts[0] == "issues" and parts[1].isdigit():
            issue = self.state.issues.get(int(parts[1]))
            if issue is None:
                return 404, {"message": "Not Found"}, {}
            if method == "PATCH":
                self._edit(issue, body)
            return 200, self._issue_json(issue), {}
        if len(parts) == 3 and parts[0] == "issues" and parts[2] == "comments":
            number = int(parts[1])
            if number not in self.state.issues:
                return 404, {"message": "Not Found"}, {}
            if method == "POST":
                cid = self.state.next_comment
                self.state.next_comment += 1
                self.state.comments[cid] = {
                    "id": cid,
                    "issue": number,
                    "body": body["body"],
                    "user": dict(user),
                }
                return 201, self._comment_json(self.state.comments[cid]), {}
            found = sorted(self.comments_on(number), key=lambda c: int(c["id"]))
            return self._page(path, query, [self._comment_json(c) for c in found])
        if len(parts) == 3 and parts[:2] == ["issues", "comments"]:
            comment = self.state.comments.get(int(parts[2]))
            if comment is None:
                return 404, {"message": "Not Found"}, {}
            if method == "DELETE":
                del self.state.comments[comment["id"]]
                return 204, None, {}
            if method == "PATCH":
                comment["body"] = body["body"]
            return 200, self._comment_json(comment), {}
        if parts == ["labels"]:
            if method == "POST":
                self.state.labels[body["name"]] = {
                    "name": body["name"],
                    "color": body.get("color", "ededed"),
                    "url": f"{self.url}{prefix}/labels/{body['name']}",
                }
                return 201, self.state.labels[body["name"]], {}
            return self._page(path, query, list(self.state.labels.values()))
        if len(parts) == 2 and parts[0] == "labels":
            name = urllib.parse.unquote(parts[1])
            if name in self.state.labels:
                return 200, self.state.labels[name], {}
            return 404, {"message": "Not Found"}, {}
        if len(parts) == 3 and parts[0] == "collaborators" and parts[2] == "permission":
            login = urllib.parse.unquote(parts[1])
            permission = self.state.permissions.get(login, "none")
            who = {"login": login, "id": abs(hash(login)) % 10**6, "type": "User"}
            return 200, {"permission": permission, "role_name": permission, "user": who}, {}
        if len(parts) == 4 and parts[:2] == ["issues", "comments"] and parts[3] == "reactions":
            comment = self.state.comments.get(int(parts[2]))
            if comment is None:
                return 404, {"message": "Not Found"}, {}
            reactions = comment.setdefault("reactions", [])
            mine = [r for r in reactions if r["user"]["login"] == user["login"]]
            existing = next((r for r in mine if r["content"] == body["content"]), None)
            if existing is not None:  # GitHub: one reaction of a kind per user, 200
                return 200, existing, {}
            reaction = {"id": len(reactions) + 1, "content": body["content"], "user": dict(user)}
            reactions.append(reaction)
            return 201, reaction, {}
        if len(parts) == 2 and parts[0] == "assignees":
            if parts[1] in self.state.assignable:
                return 204, None, {}
            return 404, {"message": "Not Found"}, {}
        return 404, {"message": f"Not Found: {method} {rest}"}, {}

    def _comment_json(self, comment: dict[str, Any]) -> dict[str, Any]:
        cid = comment["id"]
        return {
            "id": cid,
            "body": comment["body"],
            "url": f"{self.url}/repos/{self.repository}/issues/comments/{cid}",
            "html_url": f"https://github.example/{self.repository}/issues/{comment['issue']}"
            f"#issuecomment-{cid}",
            "user": comment["user"],
            "created_at": "2026-11-27T16:00:00Z",
        }

    def _edit(self, issue: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        if "state" in body:
            issue["state"] = body["state"]
            issue["closed_at"] = "2026-11-27T16:00:00Z" if body["state"] == "closed" else None
        if "labels" in body:
            issue["label_names"] = [str(x) for x in body["labels"]]
            for n in issue["label_names"]:
                self.state.labels.setdefault(n, {"name": n, "color": "ededed"})
        if "assignees" in body:
            issue["assignees"] = [a for a in body["assignees"] if a in self.state.assignable]

    def _page(
        self, path: str, query: dict[str, str], items: list[Any]
    ) -> tuple[int, Any, dict[str, str]]:
        size = min(self.state.page_size, int(query.get("per_page", 30)))
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // size))
        links = []

        def link(n: int, rel: str) -> str:
            q = urllib.parse.urlencode({**query, "page": n})
            return f'<{self.url}{path}?{q}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * size : page * size], headers

    def fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.state.faults:
            if fault.fired:
                continue
            if fault.method and fault.method != method:
                continue
            if fault.path and fault.path not in path:
                continue
            fault.seen += 1
            if fault.seen == fault.on:
                fault.fired = True
                return fault
        return None


def _names(issue: dict[str, Any]) -> list[str]:
    return list(issue["label_names"])


def _handler(double: GitHubDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else {}
            method = self.command
            auth = self.headers.get("Authorization", "")
            with double.lock:
                double.state.requests.append((method, self.path))
                fault = double.fault_for(method, self.path)
            if fault and fault.kind == "reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.close_connection = True
                self.connection.close()
                return
            token = auth.split(" ", 1)[-1] if auth.startswith(("token ", "Bearer ")) else ""
            if token not in double.state.tokens:
                self._send(401, {"message": "Bad credentials"}, {})
                return
            if fault and fault.kind not in ("slow", "crash"):
                self._send(*_fault_response(fault, double.now))
                return
            with double.lock:
                status, data, headers = double.handle(method, self.path, body, token)
            if fault and fault.kind == "crash" and fault.then is not None:
                fault.then()  # e.g. kill the client process: the work is done, no answer
                self.close_connection = True
                return
            if fault and fault.kind == "slow":
                time.sleep(double.state.slow_seconds)  # the work is done; the answer is late
            self._send(status, data, headers)

        def _send(self, status: int, data: Any, headers: dict[str, str]) -> None:
            payload = b"" if data is None else json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-RateLimit-Limit", "5000")
                self.send_header("X-RateLimit-Remaining", headers.pop("_remaining", "4999"))
                self.send_header("X-RateLimit-Reset", headers.pop("_reset", str(double.now + 3600)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

    return Handler


def _fault_response(fault: Fault, now: int) -> tuple[int, Any, dict[str, str]]:
    if fault.kind in ("500", "502"):
        return int(fault.kind), {"message": "Server Error"}, {}
    if fault.kind == "secondary":
        return 403, {"message": SECONDARY}, {"Retry-After": str(fault.retry_after)}
    if fault.kind == "429":
        return 429, {"message": "Too Many Requests"}, {"Retry-After": str(fault.retry_after)}
    if fault.kind == "primary":
        return (
            403,
            {"message": PRIMARY},
            {"_remaining": "0", "_reset": str(now + fault.retry_after)},
        )
    raise ValueError(f"unknown fault {fault.kind}")


def serve_double() -> Iterator[GitHubDouble]:
    double = GitHubDouble().start()
    try:
        yield double
    finally:
        double.stop()


class FakeClock:
    """Replaces github.client.CLOCK: sleeping only moves the time on, and is recorded."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.epoch + self.elapsed

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


def comment_as(double: GitHubDouble, token: str, number: int, body: str) -> int:
    """Comment on issue or PR `number` as the token's user, through PyGithub; the comment id."""
    from github import Auth, Github

    client = Github(auth=Auth.Token(token), base_url=double.url, retry=None)
    return int(client.get_repo(double.repository).get_issue(number).create_comment(body).id)


def environment(double: GitHubDouble) -> dict[str, str]:
    """The Actions environment that points incidentctl at the double."""
    return {
        "GITHUB_REPOSITORY": double.repository,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": double.url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REF_NAME": "main",
        "INCIDENTCTL_GITHUB_TIMEOUT": "1",
    }


def comment_event(double: GitHubDouble, comment_id: int, action: str = "created") -> dict[str, Any]:
    """The `issue_comment` event GitHub sends for a comment of the double, as a workflow's
    GITHUB_EVENT_PATH holds it."""
    comment = double.state.comments[comment_id]
    issue = double._issue_json(double.state.issues[comment["issue"]])
    return {
        "action": action,
        "issue": issue,
        "comment": double._comment_json(comment),
        "repository": double._repo_json(),
        "sender": comment["user"],
    }
