"""The one money type: integer minor units beside an ISO 4217 currency.

Amounts travel as decimal strings and are stored as integers; nothing here uses float.
Currency digits come from ISO's own table (the `iso4217` package).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from iso4217 import Currency

#: Amounts and opening balances stay below this many minor units (999,999,999,999.99 USD).
MAX_AMOUNT_MINOR = 10**14
#: A balance may never leave +/- this many minor units (enforced by a CHECK constraint).
MAX_BALANCE_MINOR = 9 * 10**17
#: The most minor-unit digits any ISO 4217 currency has (CLF, UYW): the common scale that
#: lets amounts in different currencies be compared as written.
COMMON_SCALE_DIGITS = 4
#: Digits beyond which a number is refused before it is even built (64-bit integers hold 18).
MAX_DIGITS = 19


class MoneyError(ValueError):
    """An amount that cannot be represented exactly in its currency."""


#: Digits of the codes looked up so far: every amount shown looks its currency up, and ISO's
#: table (an Enum looked up by value) costs more than the formatting itself.
_DIGITS: dict[str, int] = {}


def digits(currency: str) -> int:
    """Minor-unit digits of an ISO 4217 currency code (USD 2, JPY 0, BHD 3)."""
    known = _DIGITS.get(currency)
    if known is not None:
        return known
    try:
        exponent = Currency(currency.upper()).exponent
    except ValueError:
        raise MoneyError(f"{currency!r} is not an ISO 4217 currency code.") from None
    if exponent is None:
        raise MoneyError(f"{currency} has no minor unit and cannot hold money here.")
    _DIGITS[currency] = exponent
    return exponent


def is_currency(code: str) -> bool:
    try:
        digits(code)
    except MoneyError:
        return False
    return True


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact minor units of `amount`, below 10^14 in magnitude; more decimal places than the
    currency has, or a larger amount, is a MoneyError that names the currency.

    Works on the decimal's digits directly: Decimal arithmetic would round to its context's
    28 significant digits and could silently accept "1.000…0001" as 1.
    """
    places = digits(currency)
    sign, digit_tuple, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        raise MoneyError("Not a finite decimal amount.")
    significant = "".join(map(str, digit_tuple)).rstrip("0")
    if not significant:
        return 0
    exponent += len(digit_tuple) - len(significant)
    if exponent + places < 0:
        raise MoneyError(
            f"{currency} amounts have at most {places} decimal place{'s' if places != 1 else ''}."
        )
    if len(significant) + exponent + places > MAX_DIGITS:
        raise MoneyError(too_large(currency))
    minor = int(significant) * 10 ** (exponent + places)
    if minor >= MAX_AMOUNT_MINOR:
        raise MoneyError(too_large(currency))
    return -minor if sign else minor


def too_large(currency: str) -> str:
    limit = format_minor(MAX_AMOUNT_MINOR - 1, currency)
    return (
        f"Amount too large: {currency} amounts are at most {limit} in magnitude "
        "(10^14 minor units)."
    )


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-digits(currency))


def format_minor(minor: int, currency: str) -> str:
    """The decimal string of `minor` units, always with the currency's number of decimals
    ("-0.05", "1200", "1.250"), by integer arithmetic: no Decimal, no rounding."""
    places = digits(currency)
    if not isinstance(minor, int):  # a Decimal, as SQL sums come back
        return f"{Decimal(minor).scaleb(-places):.{places}f}"
    if not places:
        return str(minor)
    whole, part = divmod(-minor if minor < 0 else minor, 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{places}d}"


def to_common_scale(minor: int, currency: str) -> int:
    """`minor` on the common 10^-4 scale, so that JPY 1200 compares above USD 12.50."""
    return minor * 10 ** (COMMON_SCALE_DIGITS - digits(currency))


def decimal_to_common_scale(amount: Decimal, *, round_up: bool) -> int:
    """A filter bound on the common scale; bounds finer than 10^-4 round inwards."""
    scaled = amount.scaleb(COMMON_SCALE_DIGITS)
    integral = scaled.to_integral_value(rounding="ROUND_CEILING" if round_up else "ROUND_FLOOR")
    return int(integral)


#: Decimal places of a rate shown (a transfer's implied rate): 1 JPY is 0.0061234568 EUR.
RATE_PLACES = 10


def implied_rate(amount: int, currency: str, arrived: int, arrived_currency: str) -> str:
    """How many `arrived_currency` one `currency` bought: `arrived / amount` as decimal values,
    rounded half-even to RATE_PLACES places, without trailing zeros ("0.92", "1")."""
    with localcontext() as context:
        context.prec = 60  # far beyond 10^14 / 10^-14: the division itself never rounds early
        context.rounding = ROUND_HALF_EVEN
        ratio = to_decimal(arrived, arrived_currency) / to_decimal(amount, currency)
        rounded = ratio.quantize(Decimal(1).scaleb(-RATE_PLACES))
    text = f"{rounded:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
