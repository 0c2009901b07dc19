"""policies/people.yaml: how each channel reaches a person (a Slack member ID so the message
mentions them, a Teams user, an e-mail address, a phone for SMS), keyed by GitHub handle.

A value may come from the environment (`${ALICE_PHONE}`), so personal data need not sit in
the repository; the caller passes the environment in (the rules never read it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# a person (@alice) or a team (@org/team, e.g. reached by a Slack channel)
WHO = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:/[A-Za-z0-9._-]+)?$")
CHANNEL = re.compile(r"^[a-z][a-z0-9-]{0,31}$")  # slack, teams, email, sms, ...
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _who(value: str) -> str:
    if not WHO.match(value):
        raise ValueError(f"{value!r} is not written as @user or @org/team")
    return value


def _channel(value: str) -> str:
    if not CHANNEL.match(value):
        raise ValueError(f"channel {value!r} is not a lowercase name such as slack or sms")
    return value


Who = Annotated[str, AfterValidator(_who)]
Channel = Annotated[str, AfterValidator(_channel)]


class People(BaseModel):
    """people.yaml: `people: {'@alice': {slack: U012AB3CD, sms: '${ALICE_PHONE}'}}`."""

    model_config = ConfigDict(extra="forbid")

    people: dict[Who, dict[Channel, str]] = Field(default_factory=dict)

    def address(self, handle: str, channel: str, env: Mapping[str, str]) -> str | None:
        """How `channel` reaches `handle`: its value with ${VARIABLES} from `env`; None when
        the person has no address there or a variable is unset or empty."""
        value = self.people.get(handle, {}).get(channel)
        if value is None:
            return None
        missing = [name for name in _VARIABLE.findall(value) if not env.get(name)]
        if missing:
            return None
        return _VARIABLE.sub(lambda m: env[m.group(1)], value).strip() or None

    def variables(self) -> set[str]:
        """Every environment variable the directory names."""
        return {
            name
            for channels in self.people.values()
            for value in channels.values()
            for name in _VARIABLE.findall(value)
        }


@dataclass(frozen=True)
class Recipient:
    """One person (or team) who must act, on one channel: `address` None when the
    directory has none for them there (or its variable is unset)."""

    who: str
    channel: str
    address: str | None


def recipients(
    people: People, who: Sequence[str], channels: Sequence[str], env: Mapping[str, str]
) -> list[Recipient]:
    """The people who must act (a reminder's `who`, rotations already resolved to whoever
    is on call) on each channel, in order: what a route that targets them sends to."""
    return [
        Recipient(handle, channel, people.address(handle, channel, env))
        for handle in dict.fromkeys(who)
        for channel in channels
    ]
