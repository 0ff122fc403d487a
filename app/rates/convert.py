"""Conversion into one currency at the user's recorded rates, in exact decimals.

`convert` takes a per-currency block of amounts (minor units by currency, as reports total
them) and converts each block at the rate in force on a date: the latest rate of the pair
(block currency -> target) dated on or before it. A currency with no such rate is named in
`missing`, and the total is then None: never guessed, never left out silently. Only the pair
as recorded is used (a EUR/USD rate converts EUR into USD, not USD into EUR: record both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from sqlalchemy import select

from app.common import money
from app.extensions import db
from app.rates.models import ExchangeRate


@dataclass(frozen=True)
class Conversion:
    #: The currency converted into, and the date whose rates were used.
    currency: str
    on: date
    #: Minor units of `currency` per source currency (the target's own block as it is).
    converted: dict[str, int] = field(default_factory=dict)
    #: The rate used per source currency: (its decimal string, the date it was recorded for).
    rates: dict[str, tuple[str, date]] = field(default_factory=dict)
    #: Source currencies with no rate into `currency` on or before `on`, sorted.
    missing: list[str] = field(default_factory=list)

    @property
    def total(self) -> int | None:
        """The converted blocks summed, or None if any block has no rate."""
        return None if self.missing else sum(self.converted.values())


def rate_in_force(user_id: int, base: str, quote: str, on: date) -> ExchangeRate | None:
    """The user's latest `base`->`quote` rate dated on or before `on`."""
    return db.session.scalars(
        select(ExchangeRate)
        .where(
            ExchangeRate.user_id == user_id,
            ExchangeRate.base == base,
            ExchangeRate.quote == quote,
            ExchangeRate.date <= on,
        )
        .order_by(ExchangeRate.date.desc())
        .limit(1)
    ).first()


def convert_minor(minor: int, currency: str, rate: str | Decimal, target: str) -> int:
    """`minor` units of `currency` at `rate` (target per one currency), in minor units of
    `target`, rounded half-even to the target's digits once, at the end."""
    with localcontext() as context:
        # Exact: 10^14 x a rate of at most 30 significant digits fits in 60.
        context.prec = 60
        context.rounding = ROUND_HALF_EVEN
        value = money.to_decimal(minor, currency) * Decimal(rate)
        places = money.digits(target)
        return int(value.scaleb(places).to_integral_value(rounding=ROUND_HALF_EVEN))


def convert(user_id: int, amounts: Mapping[str, int], target: str, on: date) -> Conversion:
    """Each currency's block of `amounts` (minor units) in `target`, at the user's rates in
    force on `on`; see the module docstring."""
    result = Conversion(currency=target, on=on)
    for currency in sorted(amounts):
        minor = amounts[currency]
        if currency == target:
            result.converted[currency] = minor
            continue
        rate = rate_in_force(user_id, currency, target, on)
        if rate is None:
            result.missing.append(currency)
            continue
        result.rates[currency] = (rate.rate, rate.date)
        result.converted[currency] = convert_minor(minor, currency, rate.rate, target)
    return result
