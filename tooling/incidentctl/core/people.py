"""policies/people.yaml: how each channel reaches a person (a Slack member ID so the message
mentions them, a Teams user, an e-mail address, a phone for SMS), keyed by GitHub handle.

A value may come from the environment (`${ALICE_PHONE}`), so personal data need not sit in
the repository; the caller passes the environment in (the rules never read it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from incidentctl.core.oncall import HANDLE

CHANNEL = re.compile(r"^[a-z][a-z0-9-]{0,31}$")  # slack, teams, email, sms, ...
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class People(BaseModel):
    """people.yaml: `people: {'@alice': {slack: U012AB3CD, sms: '${ALICE_PHONE}'}}`."""

    model_config = ConfigDict(extra="forbid")

    people: dict[str, dict[str, str]] = Field(default_factory=dict)

    @field_validator("people")
    @classmethod
    def _names(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for handle, channels in value.items():
            if not HANDLE.match(handle):
                raise ValueError(f"{handle!r} is not a GitHub handle written as @user")
            for channel in channels:
                if not CHANNEL.match(channel):
                    raise ValueError(
                        f"{handle}: channel {channel!r} is not a lowercase name such as slack"
                    )
        return value

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
