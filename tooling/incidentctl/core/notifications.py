"""policies/notifications.yaml: where overdue reminders go besides the tracking issue.

A sink is a channel (an apprise URL: Slack, Microsoft Teams, e-mail, ntfy, a JSON webhook);
a route says which findings reach which sinks, the first matching route winning. The file is
read as it is now, never from an incident's policy snapshot: a webhook that moved must be
reached at its new address by the incidents declared before the move.

A URL names its secrets as `${VAR}`, filled in from the environment when a message is sent,
so no secret is committed; an unset or empty variable makes that sink fail, not the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from incidentctl.core.model import Priority

NOTIFICATIONS_FILE = "notifications"  # policies/notifications.yaml
SINK_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


ADDRESS = "{address}"  # in a person sink's URL: the recipient's address on its channel
CHANNEL = r"^[a-z][a-z0-9-]{0,31}$"  # a people.yaml channel: slack, teams, email, sms, ...


class Sink(_Strict):
    name: str = Field(pattern=SINK_NAME, description="What routes and the delivery record call it.")
    url: str = Field(min_length=1, description="An apprise URL; ${VAR} from the environment.")
    channel: str | None = Field(
        None,
        pattern=CHANNEL,
        description="The people.yaml channel this sink speaks: with {address} in the URL, a "
        "person sink (one message per person, to their address); without, the message names "
        "each person by their address there (a Slack member ID mentions them).",
    )

    @model_validator(mode="after")
    def _person(self) -> Sink:
        if ADDRESS in self.url and self.channel is None:
            raise ValueError(
                f"sink {self.name}: {ADDRESS} in the URL needs a `channel` (the people.yaml "
                "key whose address fills it, e.g. sms)"
            )
        return self

    @property
    def per_person(self) -> bool:
        return ADDRESS in self.url

    def variables(self) -> list[str]:
        return _VARIABLE.findall(self.url)


class Route(_Strict):
    """Findings of these priorities and rules go to these sinks; an omitted filter matches
    everything (runbook findings have no priority: a route naming priorities skips them)."""

    priorities: list[Priority] | None = None
    rules: list[str] | None = None
    sinks: list[str] = Field(default_factory=list)  # empty: matched findings go nowhere
    # person sinks: each person who must act gets the message at their own address there
    people: list[str] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _known(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        known = (info.context or {}).get("rules")
        for rule in value or ():
            if known is not None and rule not in known:
                raise ValueError(f"unknown rule {rule!r} (one of: {', '.join(known)})")
        return value

    def matches(self, priority: Priority | None, rule: str) -> bool:
        if self.priorities is not None and priority not in self.priorities:
            return False
        return self.rules is None or rule in self.rules


class Notifications(_Strict):
    sinks: list[Sink] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    base_url: str | None = Field(
        default=None,
        description="Where the repository's files are browsed (a message links the incident "
        "as base_url/<path>); default in GitHub Actions: the repository on GitHub.",
    )

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("base_url must be an absolute http(s) URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _names(self) -> Notifications:
        names = [s.name for s in self.sinks]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"sink names must be unique: {', '.join(twice)}")
        for route in self.routes:
            missing = [n for n in [*route.sinks, *route.people] if n not in names]
            if missing:
                raise ValueError(f"a route names sinks that are not declared: {', '.join(missing)}")
            wrong = [n for n in route.sinks if self.sink(n).per_person]
            if wrong:
                raise ValueError(
                    f"{', '.join(wrong)}: a person sink ({ADDRESS} in its URL) goes under a "
                    "route's `people:`, not `sinks:`"
                )
            fixed = [n for n in route.people if not self.sink(n).per_person]
            if fixed:
                raise ValueError(
                    f"{', '.join(fixed)}: a route's `people:` names person sinks, whose URL "
                    f"has {ADDRESS} (the person's address on the sink's channel)"
                )
        return self

    def sink(self, name: str) -> Sink:
        return next(s for s in self.sinks if s.name == name)

    def route(self, priority: Priority | None, rule: str) -> list[Sink]:
        """The sinks of the first route matching (every sink but the person sinks when
        there are no routes)."""
        if not self.routes:
            return [s for s in self.sinks if not s.per_person]
        for route in self.routes:
            if route.matches(priority, rule):
                return [self.sink(n) for n in route.sinks]
        return []

    def person_sinks(self, priority: Priority | None, rule: str) -> list[Sink]:
        """The person sinks of the first route matching: the people who must act, each at
        their own address (none without routes)."""
        for route in self.routes:
            if route.matches(priority, rule):
                return [self.sink(n) for n in route.people]
        return []


class UnsetVariable(ValueError):
    """A sink URL names a variable the environment does not have (or has empty)."""


def expand(url: str, env: Mapping[str, str]) -> str:
    """The URL with every ${VAR} replaced from `env`; UnsetVariable names the first missing."""

    def value(found: re.Match[str]) -> str:
        text = env.get(found.group(1), "")
        if not text.strip():
            raise UnsetVariable(f"${{{found.group(1)}}} is not set")
        return text.strip()

    return _VARIABLE.sub(value, url)


def parse(data: Any, rules: tuple[str, ...]) -> Notifications:
    """The file's data as Notifications (pydantic's ValidationError for the caller to
    locate); `rules`: the rule ids a route may name."""
    return Notifications.model_validate(data or {}, context={"rules": rules})
