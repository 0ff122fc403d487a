"""Calendar periods (weeks from Monday, months, years), in Python and in SQL alike.

`period_start(column, unit)` is the first day of the period a date falls in, as one SQL
expression that compiles to each database's own calendar function (PostgreSQL's date_trunc,
SQLite's date modifiers), so that a report groups by period in the database with the same code
on both. `floor`, `following` and `starts` walk the same calendar in Python, to name every
period of a range, the empty ones too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

UNITS = ("week", "month", "year")

#: SQLite's date() modifiers that take a date to the first day of its period; "weekday 0"
#: moves to the next Sunday (or stays on one), six days back is the Monday of its ISO week.
_SQLITE = {
    "week": "'weekday 0', '-6 days'",
    "month": "'start of month'",
    "year": "'start of year'",
}


class period_start(FunctionElement):  # noqa: N801 - an SQL function reads like one
    """The first day of the `unit` the date `column` falls in."""

    type = sa.Date()
    inherit_cache = True
    name = "period_start"
    # The unit is part of the statement cache's key: a week is not a month.
    _traverse_internals = [
        *FunctionElement._traverse_internals,
        ("unit", InternalTraversal.dp_string),
    ]

    def __init__(self, column, unit: str) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown period {unit!r}")
        # The unit is written into the SQL text, never bound: PostgreSQL must see the same
        # expression in SELECT and GROUP BY.
        self.unit = unit
        super().__init__(column)


@compiles(period_start, "postgresql")
def _period_start_postgresql(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('{element.unit}', {column}) AS DATE)"


@compiles(period_start, "sqlite")
def _period_start_sqlite(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    return f"date({column}, {_SQLITE[element.unit]})"


class utc_date(FunctionElement):  # noqa: N801
    """The UTC calendar date of a timestamp column."""

    type = sa.Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date, "postgresql")
def _utc_date_postgresql(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element, compiler, **kw):
    # SQLite keeps UTC timestamps as text (app.common.db.UTCDateTime).
    return f"date({compiler.process(element.clauses, **kw)})"


def as_date(value: date | str) -> date:
    """A date as the database answered it (SQLite answers text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def floor(day: date, unit: str) -> date:
    """The first day of the period `day` falls in."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def following(start: date, unit: str) -> date:
    """The first day of the period after the one starting on `start`."""
    return start + relativedelta(**{f"{unit}s": 1})


def count(first: date, last: date, unit: str) -> int:
    """How many periods the range `first`..`last` touches."""
    if unit == "week":
        return (floor(last, unit) - floor(first, unit)).days // 7 + 1
    if unit == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return last.year - first.year + 1


def starts(first: date, last: date, unit: str) -> Iterator[tuple[date, date, date]]:
    """(period start, first day in range, last day in range) of every period of the range."""
    start = floor(first, unit)
    while start <= last:
        following_start = following(start, unit)
        yield start, max(start, first), min(following_start - timedelta(days=1), last)
        start = following_start
