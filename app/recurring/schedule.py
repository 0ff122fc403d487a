"""When a schedule's occurrences fall: pure calendar arithmetic, no database.

Occurrence k is the start date plus k times the step, always counted from the start (never
from the previous occurrence), so a monthly schedule keeps its day where the month has it:
started on the 30th it falls on Jan 30, Feb 28, Mar 30; on the 31st, the last day of shorter
months (python-dateutil's relativedelta clamps to the month's end). Yearly from Feb 29 falls
on Feb 28 in common years.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from app.common.schemas import LAST_DATE


def nth(start: date, unit: str, every: int, k: int) -> date:
    if unit == "day":
        return start + timedelta(days=every * k)
    if unit == "week":
        return start + timedelta(weeks=every * k)
    if unit == "month":
        return start + relativedelta(months=every * k)
    if unit == "year":
        return start + relativedelta(years=every * k)
    raise ValueError(f"unknown unit {unit!r}")


def occurrences(
    start: date,
    unit: str,
    every: int,
    *,
    end: date | None = None,
    count: int | None = None,
    until: date | None = None,
) -> Iterator[date]:
    """The schedule's dates in order, up to `end` (its end date), its `count`, and `until`."""
    last = min(d for d in (end, until, LAST_DATE) if d is not None)
    k = 0
    while count is None or k < count:
        try:
            day = nth(start, unit, every, k)
        except OverflowError:  # past year 9999
            return
        if day > last:
            return
        yield day
        k += 1
