"""The on-call schedule as `validate` checks it: rotations that never hand over, members
and stand-ins not written as @user, overrides of no rotation or on top of one another, a
contact or role naming no rotation, and escalation.yaml's older rotations still in use."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from incidentctl.checks.incidents import Finding
from incidentctl.core.diagnostics import field_name
from incidentctl.core.oncall import HANDLE, fires, rotation_named
from incidentctl.core.policy import Policy

# (policy file name, key path inside it) -> (path shown, line)
Where = Callable[[str, tuple[str | int, ...]], tuple[str, int | None]]

RULE = "oncall"


def check_schedule(
    policy: Policy, where: Where, paging: Sequence[tuple[str, str]] = ()
) -> list[Finding]:
    """Every finding about oncall.yaml and the rotations escalation.yaml names. `paging`:
    (person sink, its channel) of notifications.yaml, whose messages go to each person at
    their people.yaml address there: a member without one would not be paged."""
    out: list[Finding] = []

    def finding(
        file: str, loc: tuple[str | int, ...], message: str, hint: str, severity: str = "error"
    ) -> None:
        path, line = where(file, loc)
        out.append(Finding(path, line, RULE, message, hint, field_name(loc) or None, severity))

    schedule = policy.oncall
    names = policy.rotations()
    seen: set[str] = set()
    for i, rotation in enumerate(schedule.rotations):
        if rotation.name in seen:
            finding(
                "oncall", ("rotations", i, "name"), f"rotation {rotation.name!r} is defined twice",
                "give each rotation its own name",
            )  # fmt: skip
        seen.add(rotation.name)
        if not fires(rotation):
            finding(
                "oncall", ("rotations", i, "rrule"),
                f"rotation {rotation.name}: the rule {rotation.rrule!r} never hands over after "
                "`start`",
                "e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0 (check COUNT, UNTIL and BY*)",
            )  # fmt: skip
        for j, member in enumerate(rotation.members):
            if not HANDLE.match(member):
                finding(
                    "oncall", ("rotations", i, "members", j),
                    f"rotation {rotation.name}: member {member!r} is not written as @user",
                    "a member is one GitHub user, e.g. '@alice' (quoted: @ starts no YAML "
                    "value)",
                )  # fmt: skip
            for sink, channel in paging:
                if channel not in policy.people.people.get(member, {}):
                    finding(
                        "oncall", ("rotations", i, "members", j),
                        f"rotation {rotation.name}: {member} has no {channel} address in "
                        f"people.yaml, so the {sink} sink cannot page them",
                        f"add people: {{'{member}': {{{channel}: ...}}}} (a value may be "
                        "${VARIABLE} from the environment)",
                        severity="warning",
                    )  # fmt: skip
    by_rotation: dict[str, list[int]] = {}
    for i, override in enumerate(schedule.overrides):
        if override.rotation not in names:
            finding(
                "oncall", ("overrides", i, "rotation"),
                f"override of unknown rotation {override.rotation!r}",
                f"known rotations: {', '.join(names) or 'none'}",
            )  # fmt: skip
        if not HANDLE.match(override.who):
            finding(
                "oncall", ("overrides", i, "who"),
                f"override {override.who!r} is not written as @user", "e.g. '@dave'",
            )  # fmt: skip
        for j in by_rotation.get(override.rotation, []):
            other = schedule.overrides[j]
            if override.start < other.end and other.start < override.end:
                finding(
                    "oncall", ("overrides", i, "from"),
                    f"override of {override.rotation} overlaps overrides[{j}] "
                    f"({other.who}): who holds the pager then?",
                    "make the windows [from, to) follow one another",
                )  # fmt: skip
        by_rotation.setdefault(override.rotation, []).append(i)
    contacts = policy.escalation.contacts
    named: list[tuple[tuple[str | int, ...], str | None]] = []
    for level, contact in contacts.default.items():
        named += [(("contacts", "default", level, "primary"), contact.primary)]
        named += [(("contacts", "default", level, "backup"), contact.backup)]
    for service, levels in contacts.services.items():
        for level, contact in levels.items():
            named += [(("contacts", "services", service, level, "primary"), contact.primary)]
            named += [(("contacts", "services", service, level, "backup"), contact.backup)]
    named += [(("roles", role), value) for role, value in policy.escalation.roles.items()]
    for loc, value in named:
        target = rotation_named(value)
        if target is not None and target not in names:
            finding(
                "escalation", loc, f"{value} names no rotation",
                f"known rotations: {', '.join(names) or 'none'} (policies/oncall.yaml)",
            )  # fmt: skip
    for i, old in enumerate(policy.escalation.rotations):
        finding(
            "escalation", ("rotations", i),
            f"rotation {old.name}: fixed {old.shift} shifts in escalation.yaml (no local "
            "hand-off time, no DST, no overrides)",
            "move it to policies/oncall.yaml: timezone, start, rrule (e.g. FREQ=WEEKLY;"
            "BYDAY=MO;BYHOUR=9;BYMINUTE=0) and members; it is still read until then",
            severity="warning",
        )  # fmt: skip
    return out
