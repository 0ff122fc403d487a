"""What a bank file says, whatever its format: one `Line` per transaction, and the problems of
the lines that could not be read, numbered from 1 for the first data row (or OFX STMTTRN)."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from app.common import text

MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)
DESCRIPTION_LENGTH, PAYEE_LENGTH, IMPORT_ID_LENGTH = 500, 200, 255


WHITESPACE_CONTROLS = re.compile(r"[\t\r\n]+")
FORBIDDEN = re.compile(text.NO_CONTROLS_PATTERN[3:-3].join("[]"))


class RowError(ValueError):
    """A line that cannot be imported; the message says why, in words."""


@dataclass(slots=True)
class Line:
    """One transaction of the file. Slotted: a 100,000-row import holds that many at once, and
    a __dict__ each would be 48 bytes more a line (measured: 176 bytes against 128)."""

    row: int
    date: date
    #: Signed: money in is positive, money out negative.
    amount: Decimal
    description: str
    payee: str | None
    import_id: str | None = None
    currency: str | None = None


@dataclass
class Statement:
    #: The lines, to be read once: a list (OFX), or read from the file as they are taken
    #: (CSV), `errors` growing as they go.
    lines: Iterable[Line] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: What was detected or given (format, encoding, delimiter...), for the answer.
    detected: dict[str, Any] = field(default_factory=dict)
    #: The statement's own currency, where the format says it (OFX CURDEF).
    currency: str | None = None

    def error(self, row: int, message: str) -> None:
        self.errors.append({"row": row, "message": message})


def check_date(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise RowError(f"The date {value.isoformat()} is outside 1900-01-01 to 2199-12-31.")
    return value


def clean_text(value: str | None, name: str, limit: int) -> str:
    """Free text as the API takes it (app.common.text): trimmed, no control or bidi reordering
    character, at most `limit` characters."""
    value = value or ""
    if value.isascii() and value.isprintable():
        # The common case, quickly: printable ASCII holds no control, bidi or invisible
        # character, and is blank only if it is all spaces.
        value = value.strip()
        if len(value) > limit:
            raise RowError(f"The {name} is longer than {limit} characters.")
        return value
    # A quoted CSV field may span lines and hold tabs: one space each, not a refused row.
    value = WHITESPACE_CONTROLS.sub(" ", value).strip()
    # The same rule as text.forbidden_character, as one regex: 100,000 rows call this thrice.
    if FORBIDDEN.search(value):
        char = text.forbidden_character(value)
        raise RowError(f"The {name} holds a forbidden character ({text.describe(char)}).")
    # Visible ASCII text is not blank: only the rest needs the Unicode tables.
    if value and not value.isascii() and text.is_blank(value):
        raise RowError(f"The {name} holds only invisible characters.")
    if len(value) > limit:
        raise RowError(f"The {name} is longer than {limit} characters.")
    return value


def canonical_amount(amount: Decimal) -> str:
    return format(amount.normalize(), "f")


def assign_import_ids(lines: Iterable[Line], seen: Counter[bytes] | None = None) -> None:
    """Lines without an id from the file get a stable one: a hash of date, amount, description
    and the occurrence of those three within the file, so that two identical coffees on one day
    are two transactions, and the same file (or an overlapping one) maps to the same ids.
    `seen` carries the occurrences from one batch of a file's lines to the next."""
    # Occurrences counted by a 16-byte digest of the three, not the three themselves: a
    # 100,000-row file's keys as tuples of new strings were 13 MB more of its peak memory.
    seen = Counter() if seen is None else seen
    for line in lines:
        if line.import_id:
            continue
        key = "\x1f".join((line.date.isoformat(), canonical_amount(line.amount), line.description))
        encoded = key.encode()
        counted = hashlib.blake2b(encoded, digest_size=16).digest()
        seen[counted] += 1
        digest = hashlib.sha256(b"%s\x1f%d" % (encoded, seen[counted])).hexdigest()
        line.import_id = f"h:{digest[:40]}"
