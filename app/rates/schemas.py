"""Exchange rate schemas: create, update (partial), list query arguments, output."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from app.common import money
from app.common.schemas import CalendarDate, Currency, PageArgsSchema, Schema

#: A rate's limits: positive, at most this many significant digits and decimal places, and
#: below 10^12 (1 unit of the weakest currency is far less; 1 of the strongest, far more).
RATE_DIGITS = 30
RATE_PLACES = 18
RATE_MAGNITUDE = 12
RATE_RULES = (
    f'A positive decimal string such as "0.9215": how many quote for one base, kept exactly '
    f"(at most {RATE_DIGITS} significant digits and {RATE_PLACES} decimal places, below "
    f"10^{RATE_MAGNITUDE}; trailing zeros are dropped). Conversions multiply by it in exact "
    "decimals and round once, half-even, to the target currency's digits."
)
#: A positive decimal string, ASCII digits only (fullmatch, as for amounts).
RATE_PATTERN = re.compile(r"^[0-9]{1,40}(\.[0-9]{1,40})?$")
DISTINCT = "A rate needs two different currencies: base and quote must differ."


class Rate(fields.String):
    """An exact positive decimal string, normalised ("0.92150" is "0.9215")."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        metadata.update(pattern=RATE_PATTERN.pattern, example="0.9215")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not RATE_PATTERN.fullmatch(text):
            raise ValidationError('Must be a decimal string such as "0.9215".')
        try:
            rate = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise ValidationError('Must be a decimal string such as "0.9215".') from None
        if rate <= 0:
            raise ValidationError("A rate must be greater than zero.")
        rate = rate.normalize()
        _, digits, exponent = rate.as_tuple()
        if len(digits) > RATE_DIGITS or -exponent > RATE_PLACES:
            raise ValidationError(
                f"A rate has at most {RATE_DIGITS} significant digits and {RATE_PLACES} "
                "decimal places."
            )
        if rate.adjusted() >= RATE_MAGNITUDE:
            raise ValidationError(f"A rate must be below 10^{RATE_MAGNITUDE}.")
        return f"{rate:f}"


BASE = "The currency one unit of which the rate prices."
QUOTE = "The currency the rate is in: 1 base = rate quote."
DATE = "The day the rate is for: in force from then until the pair's next rate."


class RateCreateSchema(Schema):
    base = Currency(required=True, metadata={"description": BASE})
    quote = Currency(required=True, metadata={"description": QUOTE})
    date = CalendarDate(required=True, date_only=True, metadata={"description": DATE})
    rate = Rate(required=True, metadata={"description": RATE_RULES})

    @validates_schema
    def distinct_currencies(self, data, **kwargs):
        if "base" in data and data.get("base") == data.get("quote"):
            raise ValidationError(DISTINCT, "quote")


class RateUpdateSchema(Schema):
    date = CalendarDate(date_only=True, metadata={"description": DATE})
    rate = Rate(metadata={"description": RATE_RULES})


class RateSchema(Schema):
    id = fields.Integer(dump_only=True, metadata={"description": "The rate's id."})
    base = fields.String(dump_only=True, metadata={"description": BASE, "example": "EUR"})
    quote = fields.String(dump_only=True, metadata={"description": QUOTE, "example": "USD"})
    date = CalendarDate(dump_only=True, metadata={"description": DATE})
    rate = fields.String(
        dump_only=True,
        metadata={
            "description": "How many quote for one base, exactly as kept.",
            "example": "1.0852",
            "pattern": RATE_PATTERN.pattern,
        },
    )
    created_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it was recorded (UTC)."}
    )
    updated_at = fields.DateTime(
        dump_only=True, metadata={"description": "When it last changed (UTC)."}
    )


class RateQueryArgsSchema(PageArgsSchema):
    base = Currency(metadata={"description": "Only rates of this base currency."})
    quote = Currency(metadata={"description": "Only rates into this quote currency."})
    on = CalendarDate(
        date_only=True,
        metadata={
            "description": "Only the rate of each pair in force on this date YYYY-MM-DD (its "
            "latest on or before it)."
        },
    )


class ConvertedRateSchema(Schema):
    rate = fields.String(
        dump_only=True, metadata={"description": "The rate used, as recorded.", "example": "0.92"}
    )
    date = CalendarDate(
        dump_only=True, metadata={"description": "The date the rate was recorded for."}
    )


class ConversionSchema(Schema):
    """A `Conversion` (app.rates.convert) as a report shows it beside its per-currency figures:
    amounts as decimal strings of the target currency."""

    currency = fields.String(
        dump_only=True, metadata={"description": "Converted into.", "example": "EUR"}
    )
    on = CalendarDate(
        dump_only=True,
        metadata={"description": "The date whose rates were used (latest on or before it)."},
    )
    total = fields.Method(
        "total_text",
        dump_only=True,
        allow_none=True,
        metadata={
            "type": "string",
            "description": "Every block converted and summed, in currency; null when a rate is "
            "missing (see missing): never a guess.",
            "example": "1234.56",
        },
    )
    converted = fields.Method(
        "converted_text",
        dump_only=True,
        metadata={
            "type": "object",
            "description": "Each source currency's block in currency, rounded once, half-even.",
        },
    )
    rates = fields.Method(
        "rates_used",
        dump_only=True,
        metadata={
            "type": "object",
            "description": 'The rate used for each source currency: {"rate", "date"}.',
        },
    )
    missing = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "Source currencies with no rate into currency by that date."},
    )

    def total_text(self, conversion) -> str | None:
        total = conversion.total
        return None if total is None else money.format_minor(total, conversion.currency)

    def converted_text(self, conversion) -> dict[str, str]:
        return {
            source: money.format_minor(minor, conversion.currency)
            for source, minor in conversion.converted.items()
        }

    def rates_used(self, conversion) -> dict[str, dict]:
        return {
            source: ConvertedRateSchema().dump({"rate": rate, "date": day})
            for source, (rate, day) in conversion.rates.items()
        }
