"""Exchange rates the user records, a base currency on the profile, and the conversion of
per-currency blocks at the rate in force on a date (exact decimals, one half-even rounding to
the target's digits, a missing rate named)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.rates.convert import convert, convert_minor


def record(user, base, quote, day, rate):
    response = user.post(
        user.url("rates"), json={"base": base, "quote": quote, "date": day, "rate": rate}
    )
    assert response.status_code == 201, response.json
    return response.json


def test_a_rate_is_kept_as_an_exact_normalised_decimal_string(user):
    body = record(user, "usd", "EUR", "2026-11-30", "0.921500")
    assert (body["base"], body["quote"], body["date"], body["rate"]) == (
        "USD",
        "EUR",
        "2026-11-30",
        "0.9215",
    )
    assert user.get(user.url("rates", body["id"])).json == body


@pytest.mark.parametrize(
    ("rate", "problem"),
    [
        ("0", "greater than zero"),
        ("-1.5", "decimal string"),
        ("1e3", "decimal string"),
        ("0." + "0" * 18 + "1", "decimal places"),
        ("1" + "0" * 12, "below 10^12"),
        (0.92, "Not a valid string"),
    ],
)
def test_a_rate_that_is_not_a_positive_exact_decimal_is_422(user, rate, problem):
    response = user.post(
        user.url("rates"), json={"base": "USD", "quote": "EUR", "date": "2026-11-30", "rate": rate}
    )
    assert response.status_code == 422
    assert problem in response.json["errors"]["json"]["rate"][0]


def test_a_pair_needs_two_currencies_and_one_rate_a_day(user):
    same = {"base": "EUR", "quote": "eur", "date": "2026-11-30", "rate": "1"}
    response = user.post(user.url("rates"), json=same)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["quote"] == [
        "A rate needs two different currencies: base and quote must differ."
    ]
    record(user, "USD", "EUR", "2026-11-30", "0.92")
    again = user.post(
        user.url("rates"), json={"base": "USD", "quote": "EUR", "date": "2026-11-30", "rate": "1"}
    )
    assert again.status_code == 409


def test_rates_list_filter_change_and_delete(user):
    old = record(user, "USD", "EUR", "2026-10-31", "0.93")
    new = record(user, "USD", "EUR", "2026-11-30", "0.92")
    yen = record(user, "JPY", "EUR", "2026-11-15", "0.0061")
    listed = user.get(user.url("rates"))
    assert [r["id"] for r in listed.json] == [new["id"], yen["id"], old["id"]]
    assert listed.headers["X-Total-Count"] == "3"
    in_force = user.get(user.url("rates"), query_string={"on": "2026-11-20"})
    assert sorted(r["id"] for r in in_force.json) == [old["id"], yen["id"]]
    only = user.get(user.url("rates"), query_string={"base": "JPY"})
    assert [r["id"] for r in only.json] == [yen["id"]]
    changed = user.patch(user.url("rates", old["id"]), json={"rate": "0.9305"})
    assert changed.json["rate"] == "0.9305"
    assert user.delete(user.url("rates", old["id"])).status_code == 204
    assert user.get(user.url("rates", old["id"])).status_code == 404


def test_another_users_rates_are_not_found(user, other_user):
    rate = record(user, "USD", "EUR", "2026-11-30", "0.92")
    assert other_user.get(f"/users/{other_user.id}/rates/{rate['id']}").status_code == 404
    assert other_user.get(user.url("rates")).status_code == 403


def test_the_base_currency_is_set_on_the_profile(user):
    assert user.get("/users/me/").json["base_currency"] is None
    response = user.patch("/users/me/", json={"base_currency": "eur"})
    assert (response.status_code, response.json["base_currency"]) == (200, "EUR")
    assert user.patch("/users/me/", json={"base_currency": "XAU"}).status_code == 422
    assert user.patch("/users/me/", json={"base_currency": None}).json["base_currency"] is None


# --- conversion --------------------------------------------------------------------------------


def test_convert_minor_rounds_once_half_even_to_the_targets_digits():
    # 10.05 USD x 0.5 = 5.025 EUR: half-even gives 5.02; 10.15 x 0.5 = 5.075 gives 5.08.
    assert convert_minor(1005, "USD", "0.5", "EUR") == 502
    assert convert_minor(1015, "USD", "0.5", "EUR") == 508
    # 1234 JPY at 0.0061234 = 7.5562756 EUR -> 7.56; into BHD (3 digits) at 0.000123: 0.151782
    assert convert_minor(1234, "JPY", "0.0061234", "EUR") == 756
    assert convert_minor(1234, "JPY", "0.000123", "BHD") == 152
    # The largest amount at a long rate stays exact: no float, no early rounding.
    exact = Decimal("999999999999.99") * Decimal("1.123456789012345678")
    assert convert_minor(99999999999999, "USD", "1.123456789012345678", "EUR") == int(
        (exact * 100).to_integral_value(rounding="ROUND_HALF_EVEN")
    )


def test_convert_uses_the_latest_rate_on_or_before_the_date_and_names_a_missing_one(app, user):
    record(user, "USD", "EUR", "2026-10-31", "0.93")
    record(user, "USD", "EUR", "2026-11-30", "0.92")
    record(user, "USD", "EUR", "2026-12-31", "0.5")  # after the date: not in force yet
    record(user, "EUR", "JPY", "2026-11-01", "160")  # the wrong direction for JPY -> EUR
    blocks = {"EUR": 10000, "USD": 123456, "JPY": 5000}
    with app.app_context():
        result = convert(user.id, blocks, "EUR", date(2026, 12, 15))
        assert result.converted == {"EUR": 10000, "USD": 113580}  # 1234.56 x 0.92 = 1135.7952
        assert result.rates == {"USD": ("0.92", date(2026, 11, 30))}
        assert result.missing == ["JPY"]
        assert result.total is None
        earlier = convert(user.id, {"EUR": 10000, "USD": 123456}, "EUR", date(2026, 11, 29))
        assert earlier.converted["USD"] == 114814  # 1234.56 x 0.93 = 1148.1408
        assert earlier.total == 10000 + 114814
        assert convert(user.id, {"USD": 1}, "EUR", date(2026, 10, 30)).missing == ["USD"]


def test_convert_reads_only_the_users_own_rates(app, user, other_user):
    record(other_user, "USD", "EUR", "2026-11-30", "0.92")
    with app.app_context():
        assert convert(user.id, {"USD": 100}, "EUR", date(2026, 12, 1)).missing == ["USD"]


def test_a_conversion_dumps_as_decimal_strings_beside_the_rates_used(app, user):
    from app.rates.schemas import ConversionSchema

    record(user, "USD", "EUR", "2026-11-30", "0.92")
    with app.app_context():
        shown = ConversionSchema().dump(
            convert(user.id, {"EUR": 10000, "USD": 123456}, "EUR", date(2026, 12, 15))
        )
        missing = ConversionSchema().dump(convert(user.id, {"JPY": 1}, "EUR", date(2026, 12, 15)))
    assert shown == {
        "currency": "EUR",
        "on": "2026-12-15",
        "total": "1235.80",  # 100.00 + 1135.80
        "converted": {"EUR": "100.00", "USD": "1135.80"},
        "rates": {"USD": {"rate": "0.92", "date": "2026-11-30"}},
        "missing": [],
    }
    assert (missing["total"], missing["missing"], missing["converted"]) == (None, ["JPY"], {})


def test_moving_a_rate_onto_a_taken_date_is_409(user):
    record(user, "USD", "EUR", "2026-11-30", "0.92")
    other = record(user, "USD", "EUR", "2026-12-01", "0.93")
    response = user.patch(user.url("rates", other["id"]), json={"date": "2026-11-30"})
    assert response.status_code == 409
    assert user.get(user.url("rates", other["id"])).json["date"] == "2026-12-01"
