"""The base Schema and the fields every resource shares: Money, Text, Id, paging, errors."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from app.common import money, text

#: The largest id a path or body may name (ids are 32-bit integers on every database).
MAX_ID = 2**31 - 1
MAX_LIMIT = 1000
#: ASCII digits only: Python's \d (and Decimal) would also take "١٢" as 12. Used with fullmatch,
#: so that "$" does not let a trailing newline through, as JSON Schema's pattern would not.
DECIMAL_STRING = re.compile(r"^-?[0-9]{1,40}(\.[0-9]{1,40})?$")
#: YYYY-MM-DD, alone or starting a datetime; Python's fromisoformat alone would also take week
#: dates ("2026-W05-6") and the basic format ("20260131").
CALENDAR_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ].+)?$", re.IGNORECASE)
#: The dates a transaction may have: older or later ones are typos (a year 20260), not history.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2199, 12, 31)


class Schema(ma.Schema):
    class Meta:
        # Unknown and read-only fields are a 422, never silently dropped; the OpenAPI document
        # then says additionalProperties: false.
        unknown = ma.RAISE


class ErrorSchema(ma.Schema):
    """The one error shape, as documented (`app.errors.error_payload` builds it)."""

    code = fields.Integer(
        required=True, metadata={"description": "The HTTP status code.", "example": 422}
    )
    status = fields.String(
        required=True,
        metadata={"description": "The HTTP status name.", "example": "Unprocessable Entity"},
    )
    message = fields.String(
        required=True,
        metadata={"description": "What went wrong, in words; for a 422, the first problem."},
    )
    errors = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "Only when something sent is wrong: every problem, keyed by where "
            "it was sent (json, query, headers, form), then by field, each a list of messages.",
            "example": {"json": {"amount": ["Must be greater than zero."]}},
        },
    )


class OpaqueText(fields.String):
    """A string PostgreSQL can store: no NUL bytes, no lone surrogates. Nothing else is asked of
    it: passwords (and the login form, which only compares) are opaque."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("Must not contain NUL characters.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ma.ValidationError("Must be valid Unicode text.") from None
        return text


class Text(OpaqueText):
    """Free text a person reads (names, descriptions, payees): no control characters, no bidi
    reordering, and empty or visible, never only invisible characters (app.common.text)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("pattern", text.NO_CONTROLS_PATTERN)
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        result = self._prepare(super()._deserialize(value, attr, data, **kwargs))
        if (char := text.forbidden_character(result)) is not None:
            kind = "control" if text.is_control(char) else "bidi reordering"
            raise ma.ValidationError(
                f"Must not contain {kind} characters (found {text.describe(char)})."
            )
        if result and text.is_blank(result):
            raise ma.ValidationError(INVISIBLE_ONLY)
        return result

    def _prepare(self, value: str) -> str:
        """What the rules apply to, and what is kept."""
        return value


#: A value of whitespace and invisible characters only (e.g. a lone U+200B ZERO WIDTH SPACE).
INVISIBLE_ONLY = "Must contain a visible character, not only invisible ones."


class TrimmedText(Text):
    """Text without leading or trailing whitespace: " Savings \t" is the name "Savings" (the
    whitespace controls trimmed away are not in it; inside, they are refused)."""

    def _prepare(self, value: str) -> str:
        return value.strip()


#: What the OpenAPI document says of a name, spelled out so that Python and JSON Schema (ECMA)
#: read it alike (their \s differ: Python adds \x1c-\x1f and \x85, ECMA adds \ufeff): maybe
#: whitespace str.strip() removes, then a character it keeps, then no control or bidi reordering
#: character up to a last kept one, then maybe whitespace again.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_STRIPPED = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_KEPT = rf"[^{_CONTROLS}{_STRIPPED}]"
NOT_BLANK = rf"^[{_STRIPPED}]*{_KEPT}(?:[^{_CONTROLS}]*{_KEPT})?[{_STRIPPED}]*$"
NAME_LENGTH = 100


class NameText(TrimmedText):
    """At most NAME_LENGTH characters as sent (as the OpenAPI document says), then trimmed."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        if isinstance(value, str) and len(value) > NAME_LENGTH:
            raise ma.ValidationError(f"Longer than maximum length {NAME_LENGTH}.")
        return super()._deserialize(value, attr, data, **kwargs)


def Name(**kwargs: Any) -> Text:  # noqa: N802 - a field factory reads like a field class
    """A trimmed, non-empty name of at most 100 characters (a blank one is a 422)."""
    metadata = {"pattern": NOT_BLANK, **kwargs.pop("metadata", {})}
    return NameText(validate=validate.Length(min=1, max=NAME_LENGTH), metadata=metadata, **kwargs)


class EmailAddress(fields.Email):
    """An email address: marshmallow's check, and none of the characters free text refuses
    (its quoted local part would take control characters), nor invisible ones."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        if isinstance(value, str) and any(
            text.is_control(char) or char in text.BIDI_REORDERING or text.is_invisible(char)
            for char in value
        ):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JSONBoolean(fields.Boolean):
    """A JSON true or false, nothing else: marshmallow's Boolean would also take "yes" or 1."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Id(fields.Integer):
    """A reference to a row: a positive integer within the id range.

    Strict (a JSON integer, not "5" or 5.0) in bodies; query strings only hold text, so their
    schemas pass `strict=False` to read "5" as 5.
    """

    def __init__(self, *, strict: bool = True, **kwargs: Any) -> None:
        super().__init__(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


#: The rules every amount sent follows, said in the fields' descriptions.
MONEY_RULES = (
    'A decimal string such as "1234.50", or a JSON number (read as an exact decimal, never a '
    "float), with at most as many decimal places as the currency has minor-unit digits (USD 2, "
    'JPY 0, BHD 3; more is a 422, never a rounding; trailing zeros are fine: "10.0" JPY is 10), '
    "and below 10^14 minor units in magnitude (999,999,999,999.99 USD)."
)
#: How every amount reads in a response.
MONEY_OUT = (
    'A decimal string with exactly the currency\'s number of decimals (USD "12.50", '
    'JPY "1200", BHD "1.250").'
)
CURRENCY_RULES = (
    "An ISO 4217 currency code (USD, EUR, JPY...; any case, answered upper-case). Its number of "
    "decimal places comes from ISO's table (USD 2, JPY 0, BHD 3); an unknown code, or one "
    "without a minor unit (XAU), is a 422."
)


class Money(fields.Field):
    """An exact amount: a decimal string (or JSON number) in, a decimal string out.

    Loading gives a finite `Decimal`; services turn it into minor units once they know the
    currency (`money.to_minor`), which is where too many decimal places becomes a 422.
    Dumping formats integer minor units with the currency found on the same object.
    """

    default_error_messages = {
        "invalid": 'Must be a decimal number such as "1234.50".',
        "not_finite": "Must be a finite number (NaN and Infinity are not amounts).",
        "too_large": "Too large: amounts are below 10^14 minor units of their currency.",
    }

    def __init__(self, *, currency_attribute: str = "currency", positive: bool = False, **kwargs):
        self.currency_attribute = currency_attribute
        self.positive = positive
        metadata = kwargs.pop("metadata", {})
        metadata.setdefault("example", "1234.50")
        if kwargs.get("dump_only") or metadata.get("type") == "string":
            # What a client reads, and what a query string holds: a decimal string.
            metadata.setdefault("pattern", DECIMAL_STRING.pattern)
            metadata["type"] = "string"
        else:
            # What a client may send: a decimal string or a JSON number (the currency's places
            # and the magnitude limit are checked later, and cannot be said in JSON Schema).
            metadata.setdefault(
                "anyOf",
                [{"type": "string", "pattern": DECIMAL_STRING.pattern}, {"type": "number"}],
            )
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise self.make_error("invalid")
        if isinstance(value, str) and not DECIMAL_STRING.fullmatch(value):
            raise self.make_error("invalid")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("not_finite")
        if amount.adjusted() >= 14:
            raise self.make_error("too_large")
        if self.positive and amount <= 0:
            raise ma.ValidationError("Must be greater than zero; the type gives the direction.")
        return amount

    def _serialize(self, value: Any, attr, obj, **kwargs) -> str | None:
        if value is None:
            return None
        currency = (
            obj[self.currency_attribute]
            if isinstance(obj, dict)
            else getattr(obj, self.currency_attribute)
        )
        return money.format_minor(value, currency)


def MoneyOut(description: str) -> fields.String:  # noqa: N802 - a field factory
    """An amount a service already formatted for its currency (a report's figure)."""
    return fields.String(
        dump_only=True,
        metadata={
            "description": f"{description} {MONEY_OUT}",
            "example": "1234.50",
            "pattern": DECIMAL_STRING.pattern,
        },
    )


class Currency(fields.String):
    """An ISO 4217 code with a minor unit; upper-cased on the way in."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.pop("metadata", {})
        metadata.update(example="USD", pattern="^[A-Za-z]{3}$")
        metadata["description"] = " ".join(
            filter(None, (metadata.get("description"), CURRENCY_RULES))
        )
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).upper()
        if not money.is_currency(code):
            raise ma.ValidationError(
                f"{value!r} is not an ISO 4217 currency code with a minor unit."
            )
        return code


class PageArgsSchema(Schema):
    """`skip`/`limit` paging, as the original API had it."""

    skip = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**62),
        metadata={"description": "How many matching items to pass over (paging).", "example": 0},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=0, max=MAX_LIMIT),
        metadata={
            "description": f"How many items to answer at most, up to {MAX_LIMIT}; the "
            "X-Total-Count header says how many match over all pages."
        },
    )


class CalendarDate(fields.Field):
    """A calendar date `YYYY-MM-DD` from FIRST_DATE to LAST_DATE; unless `date_only`, an ISO
    datetime is accepted too and keeps the calendar date written in its own offset (as the
    original API's clients send it)."""

    default_error_messages = {
        "invalid": "Must be a date YYYY-MM-DD (or an ISO 8601 datetime).",
        "invalid_date_only": "Must be a date YYYY-MM-DD.",
        "not_a_date": "{value} is not a calendar date.",
        "out_of_range": f"Must be a date from {FIRST_DATE} to {LAST_DATE}.",
    }

    def __init__(self, *, date_only: bool = False, **kwargs: Any) -> None:
        self.date_only = date_only
        metadata = kwargs.pop("metadata", {})
        metadata.update(type="string", format="date", example="2026-01-31")
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr, data, **kwargs) -> date:
        invalid = "invalid_date_only" if self.date_only else "invalid"
        if not isinstance(value, str) or len(value) > 64 or not CALENDAR_DATE.match(value):
            raise self.make_error(invalid)
        if self.date_only and len(value) != 10:
            raise self.make_error(invalid)
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            # "2026-02-30" has the shape of a date but names no day: say so.
            raise self.make_error("not_a_date", value=value[:10]) from None
        if len(value) > 10:
            try:
                day = datetime.fromisoformat(value).date()
            except ValueError:
                raise self.make_error(invalid) from None
        if not FIRST_DATE <= day <= LAST_DATE:
            raise self.make_error("out_of_range")
        return day

    def _serialize(self, value: Any, attr, obj, **kwargs) -> str | None:
        return None if value is None else value.isoformat()
