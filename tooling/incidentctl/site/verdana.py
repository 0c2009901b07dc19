"""Verdana 11 px advance widths: the metrics shields.io lays its badges out with.

A browser draws badge text in Verdana when it has it; the badge is sized from these widths
and every text carries `textLength`, so with any other font (DejaVu Sans on Linux) the text
is stretched to the same box instead of overflowing it. The table is the one shields.io
measures with (anafanafo's verdana-11px-normal, MIT, Metabolize LLC), cut to Latin-1, Latin
Extended-A and general punctuation, in hundredths of a pixel.
"""

from __future__ import annotations

# Advance widths of U+0020 to U+017F, in hundredths of a pixel; "-" is a code point the
# table has no width for (C1 controls, U+017F).
_FIRST = 0x20
_LATIN = (
    "387 433 505 900 699 1184 799 295 500 500 699 900 400 500 400 500 699 699 699 699 699 699 "
    "699 699 699 699 500 500 900 900 900 600 1100 752 754 768 848 696 632 853 827 463 500 762 "
    "612 927 823 866 663 866 765 752 678 805 752 1088 754 677 754 500 500 500 900 699 699 661 "
    "685 573 685 655 387 685 696 302 379 651 302 1070 696 668 685 685 469 573 433 696 651 900 "
    "651 651 578 698 500 698 900 - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - "
    "- - 387 433 699 699 699 699 500 699 699 1100 600 709 900 0 1100 699 596 900 596 596 699 "
    "706 699 400 699 596 600 709 1100 1100 1100 600 752 752 752 752 752 752 1083 768 696 696 "
    "696 696 463 463 463 463 853 823 866 866 866 866 866 900 866 805 805 805 805 677 666 682 "
    "661 661 661 661 661 661 1051 573 655 655 655 655 302 302 302 302 673 696 668 668 668 668 "
    "668 900 668 696 696 696 696 651 685 - 752 661 752 661 752 661 768 573 768 573 768 573 768 "
    "573 848 712 853 685 696 655 696 655 696 655 696 655 696 655 853 685 853 685 853 685 853 "
    "685 827 696 827 696 463 302 463 302 463 302 463 302 463 302 958 675 500 379 762 651 651 "
    "612 302 612 302 612 325 612 504 618 313 823 696 823 696 823 696 804 823 696 866 668 866 "
    "668 866 668 1177 1080 765 469 765 469 765 469 752 573 752 573 752 573 752 573 678 433 678 "
    "433 678 433 805 696 805 696 805 693 805 696 805 696 805 693 1088 900 677 651 677 754 578 "
    "754 578 754 578 -"
)
_PUNCTUATION = {
    0x2010: 636,
    0x2011: 636,
    0x2012: 699,
    0x2013: 699,
    0x2014: 1100,
    0x2015: 1100,
    0x2016: 309,
    0x2017: 699,
    0x2018: 295,
    0x2019: 295,
    0x201A: 295,
    0x201B: 295,
    0x201C: 505,
    0x201D: 505,
    0x201E: 505,
    0x201F: 505,
    0x2020: 699,
    0x2021: 699,
    0x2022: 600,
    0x2023: 517,
    0x2024: 367,
    0x2025: 733,
    0x2026: 900,
    0x2027: 348,
    0x2028: 0,
    0x2029: 0,
    0x202A: 0,
    0x202B: 0,
    0x202C: 0,
    0x202D: 0,
    0x202E: 0,
    0x202F: 193,
    0x2030: 1674,
    0x2031: 1491,
    0x2032: 397,
    0x2033: 613,
    0x2034: 613,
    0x2035: 358,
    0x2036: 596,
    0x2037: 835,
    0x2038: 388,
    0x2039: 500,
    0x203A: 500,
    0x20AC: 699,
    0x2122: 1074,
}


def _table() -> dict[int, int]:
    widths = {
        _FIRST + offset: int(width) for offset, width in enumerate(_LATIN.split()) if width != "-"
    }
    widths.update(_PUNCTUATION)
    return widths


WIDTHS = _table()
EM = WIDTHS[ord("m")]  # what an unknown character counts as (anafanafo's guess)


def char_width(char: str) -> int:
    """One character's advance in hundredths of a pixel: control characters take none."""
    code = ord(char)
    if code <= 0x1F or code == 0x7F:
        return 0
    return WIDTHS.get(code, EM)


def text_width(text: str) -> float:
    """The advance of `text` in pixels (no kerning). The widths are added left to right as
    doubles, as anafanafo adds them (not `sum`, which compensates), so a total that lands a
    hair off an integer truncates to the width shields.io gets."""
    total = 0.0
    for char in text:
        total += char_width(char) / 100
    return total
