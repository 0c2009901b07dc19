"""Which document a name typed at 3 a.m. means: the whole ID in any case, or a unique suffix
(`9trx`, as read off a page) or prefix of one. An ambiguous piece lists the candidates and a
miss names the closest, so a typo is never a dead end. One resolver for incident IDs,
maintenance IDs and runbook names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from incidentctl.core.errors import IncidentctlError

# a shorter piece would pick a document by chance, not by what the user read
MIN_PIECE = 3
SHOWN = 8  # candidates named in an ambiguity error
CLOSE = 0.6  # how alike a suggestion must be (difflib's ratio)


def plain(given: str) -> bool:
    """Whether `given` could be (a piece of) a name: letters, digits, '-' and '_' only. Any
    other is left to the store, which refuses it as no valid ID, never as a path."""
    return re.fullmatch(r"[A-Za-z0-9_-]{1,64}", given.strip()) is not None


def resolve(
    given: str,
    known: Iterable[str],
    *,
    kind: str,
    where: str,
    listing: str,
    quote: bool = False,
) -> str:
    """The one name of `known` that `given` means; IncidentctlError (exit 2) when none or
    several do. `kind` names the document ("incident"), `where` its folder, `listing` the
    hint when nothing is alike (the command that lists them); `quote` writes names quoted."""
    names = sorted(set(known))
    text = given.strip()
    key = text.casefold()
    if text in names:
        return text
    same = [n for n in names if n.casefold() == key]
    if len(same) == 1:
        return same[0]
    pieces = same or (
        [n for n in names if n.casefold().endswith(key) or n.casefold().startswith(key)]
        if len(key) >= MIN_PIECE
        else []
    )
    if len(pieces) == 1:
        return pieces[0]
    if pieces:
        shown = ", ".join(pieces[:SHOWN])
        more = f" and {len(pieces) - SHOWN} more" if len(pieces) > SHOWN else ""
        raise IncidentctlError(
            f"{text!r} matches {len(pieces)} {kind}s: {shown}{more}",
            hint=f"give more of the {kind} ID (or all of it) to pick one",
        )
    close = [repr(n) if quote else n for n in closest(text, names)]
    raise IncidentctlError(
        f"no {kind} {repr(text) if quote else text} in {where}",
        hint=f"did you mean {' or '.join(close)}?" if close else listing,
    )


def closest(given: str, names: Iterable[str], *, n: int = 3) -> list[str]:
    """The names most like `given`, best first: compared whole, and by their tail and last
    segment when `given` is a piece (a typo in `E2QV` is a typo in the suffix). difflib's
    cheap upper bounds skip most of 10,000 IDs before the real ratio is computed."""
    key = given.casefold()
    matcher = SequenceMatcher()
    matcher.set_seq2(key)  # difflib caches what it learns about the second sequence

    def likeness(name: str) -> float:
        folded = name.casefold()
        best = 0.0
        for form in {folded, folded[-len(key) :], folded.rsplit("-", 1)[-1]}:
            matcher.set_seq1(form)
            if matcher.real_quick_ratio() >= CLOSE and matcher.quick_ratio() >= CLOSE:
                best = max(best, matcher.ratio())
        return best

    scored = sorted(((likeness(name), name) for name in names), key=lambda p: (-p[0], p[1]))
    if not scored or scored[0][0] < CLOSE:
        return []
    top = scored[0][0]
    return [name for score, name in scored[:n] if score >= max(CLOSE, top - 0.05)]
