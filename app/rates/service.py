"""Exchange rates: record, change and delete the caller's rates. No request, no commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select

from app.common.errors import NotFound
from app.common.unset import UNSET
from app.extensions import db
from app.rates.models import ExchangeRate


def list_stmt(user_id: int, args: dict) -> Select:
    rate = ExchangeRate
    stmt = select(rate).where(rate.user_id == user_id)
    if "base" in args:
        stmt = stmt.where(rate.base == args["base"])
    if "quote" in args:
        stmt = stmt.where(rate.quote == args["quote"])
    if "on" in args:
        latest = (
            select(rate.base, rate.quote, func.max(rate.date).label("date"))
            .where(rate.user_id == user_id, rate.date <= args["on"])
            .group_by(rate.base, rate.quote)
            .subquery()
        )
        stmt = stmt.join(
            latest,
            (latest.c.base == rate.base)
            & (latest.c.quote == rate.quote)
            & (latest.c.date == rate.date),
        )
    return stmt


def get(user_id: int, rate_id: int) -> ExchangeRate:
    found = db.session.scalars(
        select(ExchangeRate).where(ExchangeRate.id == rate_id, ExchangeRate.user_id == user_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"Rate {rate_id} not found.")
    return found


def create(user_id: int, *, base: str, quote: str, date: date, rate: str) -> ExchangeRate:
    """Record a rate; another for the same pair and date is a 409 (the UNIQUE constraint)."""
    row = ExchangeRate(user_id=user_id, base=base, quote=quote, date=date, rate=rate)
    db.session.add(row)
    db.session.flush()
    return row


def update(
    user_id: int,
    rate_id: int,
    *,
    precondition=lambda row: None,
    date: date = UNSET,
    rate: str = UNSET,
) -> ExchangeRate:
    """Change the fields given (UNSET: as it was)."""
    row = db.session.scalars(
        select(ExchangeRate)
        .where(ExchangeRate.id == rate_id, ExchangeRate.user_id == user_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound(f"Rate {rate_id} not found.")
    precondition(row)
    if date is not UNSET:
        row.date = date
    if rate is not UNSET:
        row.rate = rate
    db.session.flush()
    return row


def delete(user_id: int, rate_id: int, *, precondition=lambda row: None) -> None:
    row = get(user_id, rate_id)
    precondition(row)
    db.session.delete(row)
    db.session.flush()
