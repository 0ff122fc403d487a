"""Reports asked `in=CUR`: each currency's figures converted at the user's recorded rates in
force on the period's last day, beside (never instead of) the per-currency blocks; a missing
rate is named, never guessed."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.usefixtures("app")


def record(user, base, quote, day, rate):
    body = {"base": base, "quote": quote, "date": day, "rate": rate}
    assert user.post(user.url("rates"), json=body).status_code == 201


@pytest.fixture
def month():
    today = datetime.now(UTC).date()
    last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    return today.replace(day=1).isoformat(), today.isoformat(), last.isoformat()


@pytest.fixture
def books(user, month):
    first, today, _ = month
    usd = user.account(name="Dollars", currency="USD", opening_balance="1000.00")
    eur = user.account(name="Euros", currency="EUR", opening_balance="200.00")
    user.transaction(usd, amount="100.00", type="income", date=today)
    user.transaction(usd, amount="30.50", type="expense", date=today)
    user.transaction(eur, amount="20.00", type="expense", date=today)
    return usd, eur


def summary(user, month, target):
    first, _, last = month
    query = f"start_date={first}&end_date={last}&in={target}"
    return user.get(f"/users/{user.id}/reports/summary?{query}")


def test_summary_in_eur_converts_each_block_at_the_rate_in_force(user, books, month):
    record(user, "USD", "EUR", month[0], "0.5")
    response = summary(user, month, "EUR")
    assert response.status_code == 200, response.json
    body = response.json
    assert [block["currency"] for block in body["currencies"]] == ["EUR", "USD"]
    converted = body["converted"]
    # USD: income 100.00, expense 30.50, net 69.50; x 0.5 = 50.00, 15.25, 34.75.
    assert converted["income"]["total"] == "50.00"
    assert converted["expense"]["total"] == "35.25"  # 15.25 + EUR 20.00
    assert converted["net"]["total"] == "14.75"  # 34.75 - 20.00
    assert converted["net"]["rates"]["USD"]["rate"] == "0.5"
    assert converted["net"]["missing"] == []


def test_a_missing_rate_is_named_and_the_total_is_null(user, books, month):
    response = summary(user, month, "EUR")
    assert response.status_code == 200
    assert response.json["converted"]["net"]["missing"] == ["USD"]
    assert response.json["converted"]["net"]["total"] is None
    # The per-currency figures are there regardless.
    usd = next(b for b in response.json["currencies"] if b["currency"] == "USD")
    assert usd["net"] == "69.50"


def test_net_worth_in_eur_converts_each_period_end(user, books, month):
    first, _, last = month
    record(user, "USD", "EUR", first, "0.5")
    query = f"start_date={first}&end_date={last}&interval=month&in=EUR"
    response = user.get(f"/users/{user.id}/reports/net-worth?{query}")
    assert response.status_code == 200, response.json
    (point,) = response.json["converted"]
    # USD 1000.00 + 100.00 - 30.50 = 1069.50 -> 534.75 EUR; EUR 200.00 - 20.00 = 180.00.
    assert point["on"] == last
    assert point["converted"] == {"EUR": "180.00", "USD": "534.75"}
    assert point["total"] == "714.75"


def test_without_in_there_is_no_conversion(user, books, month):
    first, _, last = month
    response = user.get(f"/users/{user.id}/reports/summary?start_date={first}&end_date={last}")
    assert "converted" not in response.json


def test_an_unknown_target_currency_is_a_422(user, month):
    response = summary(user, month, "XYZ")
    assert response.status_code == 422
    assert response.json["message"].startswith("Query parameter in:")
