"""Exact money: app/common/money.py, the Money and Currency fields, and what the API makes of
amounts written as strings or JSON numbers.
"""

from __future__ import annotations

import json
from decimal import Decimal

import marshmallow as ma
import pytest

from app.common import money
from app.common.json import loads
from app.common.schemas import Currency, Money, Schema

# --- currency digits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "currency, places", [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3), ("KWD", 3), ("CLF", 4)]
)
def test_currency_digits_come_from_iso_4217(currency, places):
    assert money.digits(currency) == places


def test_currency_code_is_read_case_insensitively():
    assert money.digits("usd") == 2


@pytest.mark.parametrize("code", ["ABC", "US", "", "DOLLAR"])
def test_unknown_currency_code_is_an_error(code):
    with pytest.raises(money.MoneyError):
        money.digits(code)


@pytest.mark.parametrize("code", ["XAU", "XXX"])
def test_currency_without_a_minor_unit_cannot_hold_money(code):
    # Gold and "no currency" have no minor unit in ISO 4217.
    assert not money.is_currency(code)


# --- to_minor -------------------------------------------------------------------------------


def test_tenth_plus_two_tenths_is_exactly_three_tenths():
    total = money.to_minor(Decimal("0.10"), "USD") + money.to_minor(Decimal("0.20"), "USD")

    assert total == 30
    assert money.format_minor(total, "USD") == "0.30"


def test_json_numbers_are_read_as_exact_decimals_never_floats():
    body = loads(b'{"a": 0.1, "b": 0.2}')

    assert body["a"] == Decimal("0.1")
    assert isinstance(body["a"], Decimal)
    assert money.to_minor(body["a"] + body["b"], "USD") == 30


@pytest.mark.parametrize(
    "amount, currency, minor",
    [
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12", "USD", 1200),
        ("-3.07", "USD", -307),
        ("1200", "JPY", 1200),
        ("1.234", "BHD", 1234),
        ("0.001", "BHD", 1),
        ("0", "USD", 0),
        ("-0", "USD", 0),
    ],
)
def test_to_minor_gives_exact_minor_units(amount, currency, minor):
    assert money.to_minor(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    "amount, currency, minor",
    [("10.0", "JPY", 10), ("10.000", "JPY", 10), ("12.5000", "USD", 1250), ("1.2000", "BHD", 1200)],
)
def test_trailing_zeros_are_fine(amount, currency, minor):
    assert money.to_minor(Decimal(amount), currency) == minor


@pytest.mark.parametrize(
    "amount, currency",
    [("10.5", "JPY"), ("0.1", "JPY"), ("1.005", "USD"), ("0.001", "USD"), ("1.2345", "BHD")],
)
def test_more_decimal_places_than_the_currency_has_is_an_error_never_a_rounding(amount, currency):
    with pytest.raises(money.MoneyError, match="decimal place"):
        money.to_minor(Decimal(amount), currency)


def test_a_tiny_fraction_beyond_28_digits_is_not_rounded_away():
    # Decimal arithmetic would round this to 1.00 in its default 28-digit context.
    with pytest.raises(money.MoneyError):
        money.to_minor(Decimal("1." + "0" * 30 + "1"), "USD")


def test_exponent_notation_is_read_exactly():
    assert money.to_minor(Decimal("1.5E+2"), "USD") == 15000


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_decimals_are_an_error(amount):
    with pytest.raises(money.MoneyError):
        money.to_minor(Decimal(amount), "USD")


def test_huge_exponent_is_an_error_not_a_huge_integer():
    with pytest.raises(money.MoneyError, match="too large"):
        money.to_minor(Decimal("1e999999"), "USD")


# --- format_minor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minor, currency, text",
    [
        (1250, "USD", "12.50"),
        (0, "USD", "0.00"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (1200, "JPY", "1200"),
        (1, "BHD", "0.001"),
        (1000, "BHD", "1.000"),
        (10**14 - 1, "USD", "999999999999.99"),
        (-(9 * 10**17), "USD", "-9000000000000000.00"),
    ],
)
def test_output_always_shows_the_currency_decimals(minor, currency, text):
    assert money.format_minor(minor, currency) == text


def test_formatting_then_reading_gives_back_the_same_minor_units():
    for minor in (0, 1, -1, 99, 12345678901234, -(10**14 - 1)):
        assert money.to_minor(Decimal(money.format_minor(minor, "BHD")), "BHD") == minor


def test_amounts_compare_on_a_common_scale_across_currencies():
    jpy_1200 = money.to_common_scale(1200, "JPY")
    usd_12_50 = money.to_common_scale(1250, "USD")

    assert jpy_1200 > usd_12_50


# --- the Money and Currency fields ----------------------------------------------------------


class AmountSchema(Schema):
    amount = Money()
    currency = Currency(load_default="USD")


class PositiveAmountSchema(Schema):
    amount = Money(positive=True)


def load_amount(value, schema=AmountSchema):
    return schema().load({"amount": value})["amount"]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("12.50", Decimal("12.50")),
        (Decimal("12.50"), Decimal("12.50")),
        (12, Decimal(12)),
        ("-7", Decimal(-7)),
        ("0.1", Decimal("0.1")),
    ],
)
def test_money_field_accepts_strings_and_json_numbers(value, expected):
    assert load_amount(value) == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "nan", "inf"])
def test_money_field_rejects_nan_and_infinity_strings(value):
    with pytest.raises(ma.ValidationError):
        load_amount(value)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_money_field_rejects_nan_and_infinity_json_literals(literal):
    value = loads(f'{{"amount": {literal}}}')["amount"]

    with pytest.raises(ma.ValidationError, match="finite"):
        load_amount(value)


@pytest.mark.parametrize("text", ["1e999999", "1E+999999", "-1e999999"])
def test_money_field_rejects_astronomic_numbers(text):
    with pytest.raises(ma.ValidationError):
        load_amount(loads(f'{{"amount": {text}}}')["amount"])


@pytest.mark.parametrize(
    "value", ["", "12,50", "1 000", "$5", "1e3", "0x10", "12.", ".5", True, None, [], {}, 1.5]
)
def test_money_field_rejects_what_is_not_a_plain_decimal(value):
    # A Python float never reaches the field from JSON (numbers are Decimal); refusing one
    # keeps a float from slipping in from code.
    with pytest.raises(ma.ValidationError):
        load_amount(value)


def test_money_field_rejects_more_than_14_integer_digits():
    with pytest.raises(ma.ValidationError, match="10\\^14"):
        load_amount("100000000000000")


@pytest.mark.parametrize("value", ["0", "-1.00"])
def test_positive_money_field_rejects_zero_and_negative_amounts(value):
    with pytest.raises(ma.ValidationError):
        load_amount(value, PositiveAmountSchema)


def test_money_field_dumps_minor_units_with_the_objects_currency():
    class Out(Schema):
        amount = Money(dump_only=True)
        currency = ma.fields.String(dump_only=True)

    assert Out().dump({"amount": 1200, "currency": "JPY"}) == {"amount": "1200", "currency": "JPY"}
    assert Out().dump({"amount": 50, "currency": "USD"})["amount"] == "0.50"


def test_currency_field_upper_cases_and_checks_the_code():
    assert AmountSchema().load({"amount": "1", "currency": "bhd"})["currency"] == "BHD"
    with pytest.raises(ma.ValidationError):
        AmountSchema().load({"amount": "1", "currency": "ZZZ"})


# --- through the API ------------------------------------------------------------------------


def post_raw(user, path, body: str):
    """Send JSON exactly as written, so numbers are not round-tripped through Python floats."""
    return user.client.post(path, data=body, content_type="application/json", headers=user.headers)


def test_json_number_tenths_add_up_exactly_in_a_balance(user):
    created = post_raw(user, user.url("accounts"), '{"name": "Wallet", "opening_balance": 0.1}')
    account = created.json
    income = json.dumps({"account_id": account["id"], "type": "income", "amount": "0.2"})

    post_raw(user, user.url("transactions"), income)

    assert user.balance(account) == "0.30"


def test_opening_balance_as_a_json_number_is_accepted(user):
    response = post_raw(user, user.url("accounts"), '{"name": "W", "opening_balance": 12.5}')

    assert response.status_code == 201
    assert response.json["opening_balance"] == "12.50"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999999"])
def test_non_finite_or_astronomic_json_numbers_are_422(user, literal):
    response = post_raw(
        user, user.url("accounts"), f'{{"name": "W", "opening_balance": {literal}}}'
    )

    assert response.status_code == 422
    assert "opening_balance" in response.json["errors"]["json"]


def test_jpy_rejects_decimals(user):
    response = user.post(
        user.url("accounts"), json={"name": "Yen", "currency": "JPY", "opening_balance": "10.5"}
    )

    assert response.status_code == 422
    assert "opening_balance" in response.json["errors"]["json"]


def test_jpy_accepts_a_trailing_zero(user):
    account = user.account(currency="JPY", opening_balance="10.0")

    assert account["opening_balance"] == "10"


def test_bhd_keeps_three_decimal_places(user):
    account = user.account(currency="BHD", opening_balance="1.5")

    assert account["opening_balance"] == "1.500"


def test_bhd_rejects_a_fourth_decimal_place(user):
    response = user.post(
        user.url("accounts"), json={"name": "Dinar", "currency": "BHD", "opening_balance": "1.2345"}
    )

    assert response.status_code == 422


def test_unknown_currency_is_422(user):
    response = user.post(user.url("accounts"), json={"name": "Play money", "currency": "XYZ"})

    assert response.status_code == 422
    assert "currency" in response.json["errors"]["json"]


@pytest.mark.parametrize(
    "currency, sent, shown",
    [("USD", "12.5", "12.50"), ("JPY", "1200", "1200"), ("BHD", "0", "0.000")],
)
def test_responses_show_the_currency_decimals(user, currency, sent, shown):
    account = user.account(currency=currency, opening_balance=sent)

    assert account["opening_balance"] == shown
    assert account["balance"] == shown
