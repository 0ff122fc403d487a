"""Transfers between accounts of different currencies: `amount` leaves the source in its
currency, `transfer_amount` arrives at the destination in its own; both balances move, and move
back, exactly; the ledger check reads both sides."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import ledger
from app.extensions import db


@pytest.fixture
def usd(user):
    return user.account(name="US checking", currency="USD", opening_balance="1000.00")


@pytest.fixture
def eur(user):
    return user.account(name="Euro savings", currency="EUR", opening_balance="50.00")


@pytest.fixture
def jpy(user):
    return user.account(name="Yen wallet", currency="JPY", opening_balance="0")


def transfer(user, source, destination, amount, transfer_amount=None, **fields):
    body = {
        "account_id": source["id"],
        "type": "transfer",
        "amount": amount,
        "transfer_account_id": destination["id"],
        **fields,
    }
    if transfer_amount is not None:
        body["transfer_amount"] = transfer_amount
    return user.post(user.url("transactions"), json=body)


def test_a_cross_currency_transfer_moves_each_side_in_its_own_currency(user, usd, eur):
    response = transfer(user, usd, eur, "250.00", "230.37")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["amount"], body["currency"]) == ("250.00", "USD")
    assert (body["transfer_amount"], body["transfer_currency"]) == ("230.37", "EUR")
    # 230.37 / 250.00 = 0.92148 exactly.
    assert body["exchange_rate"] == "0.92148"
    assert user.balance(usd) == "750.00"  # 1000.00 - 250.00
    assert user.balance(eur) == "280.37"  # 50.00 + 230.37


def test_the_implied_rate_is_rounded_half_even_to_ten_places(user, usd, jpy):
    body = transfer(user, jpy, usd, "3", "0.02").json  # nothing in the wallet: it goes negative
    # 0.02 / 3 = 0.006666666666..., to ten places 0.0066666667.
    assert body["exchange_rate"] == "0.0066666667"
    assert (user.balance(jpy), user.balance(usd)) == ("-3", "1000.02")


def test_a_same_currency_transfer_needs_no_transfer_amount_and_shows_it(user, usd):
    savings = user.account(currency="USD")
    body = transfer(user, usd, savings, "30.00").json
    assert (body["transfer_amount"], body["transfer_currency"]) == ("30.00", "USD")
    assert body["exchange_rate"] == "1"
    equal = transfer(user, usd, savings, "5.00", "5.0")
    assert equal.status_code == 201
    assert (user.balance(usd), user.balance(savings)) == ("965.00", "35.00")


def test_a_same_currency_transfer_with_another_transfer_amount_is_422(user, usd):
    savings = user.account(currency="USD")
    response = transfer(user, usd, savings, "30.00", "29.99")
    assert response.status_code == 422
    assert response.json["errors"]["json"]["transfer_amount"] == [
        "A transfer between two USD accounts moves one amount: transfer_amount must equal "
        "amount, or be left out."
    ]
    assert (user.balance(usd), user.balance(savings)) == ("1000.00", "0.00")


def test_transfer_amount_is_exact_in_the_destinations_digits(user, usd, jpy):
    response = transfer(user, usd, jpy, "10.00", "1500.5")
    assert response.status_code == 422
    assert response.json["errors"]["json"]["transfer_amount"] == [
        "JPY amounts have at most 0 decimal places."
    ]
    assert (user.balance(usd), user.balance(jpy)) == ("1000.00", "0")


def test_income_and_expense_take_no_transfer_amount(user, usd):
    body = {"account_id": usd["id"], "type": "expense", "amount": "1.00", "transfer_amount": "1"}
    response = user.post(user.url("transactions"), json=body)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["transfer_amount"] == [
        "Only transfers have a transfer_amount."
    ]


def test_deleting_a_cross_currency_transfer_moves_both_balances_back(user, usd, eur):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    assert user.delete(user.url("transactions", txn["id"])).status_code == 204
    assert (user.balance(usd), user.balance(eur)) == ("1000.00", "50.00")


def test_changing_amount_keeps_the_destination_side(user, usd, eur):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    response = user.patch(user.url("transactions", txn["id"]), json={"amount": "251.50"})
    assert response.status_code == 200, response.json
    assert response.json["transfer_amount"] == "230.37"
    assert (user.balance(usd), user.balance(eur)) == ("748.50", "280.37")


def test_changing_both_sides_moves_both_balances_by_the_differences(user, usd, eur):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    response = user.patch(
        user.url("transactions", txn["id"]), json={"amount": "100.00", "transfer_amount": "92.01"}
    )
    assert response.status_code == 200, response.json
    assert response.json["exchange_rate"] == "0.9201"
    assert (user.balance(usd), user.balance(eur)) == ("900.00", "142.01")


def test_moving_the_destination_to_another_currency_takes_the_new_side(user, usd, eur, jpy):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    response = user.patch(
        user.url("transactions", txn["id"]),
        json={"transfer_account_id": jpy["id"], "transfer_amount": "37125"},
    )
    assert response.status_code == 200, response.json
    assert (response.json["transfer_amount"], response.json["transfer_currency"]) == (
        "37125",
        "JPY",
    )
    assert (user.balance(usd), user.balance(eur), user.balance(jpy)) == (
        "750.00",
        "50.00",
        "37125",
    )


def test_a_cross_currency_transfer_turned_same_currency_takes_amount(user, usd, eur):
    dollars = user.account(currency="USD")
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    response = user.patch(
        user.url("transactions", txn["id"]), json={"transfer_account_id": dollars["id"]}
    )
    assert response.status_code == 200, response.json
    assert response.json["transfer_amount"] == "250.00"
    assert (user.balance(eur), user.balance(dollars)) == ("50.00", "250.00")


def test_turning_an_expense_into_a_cross_currency_transfer(user, usd, eur):
    txn = user.transaction(usd, amount="40.00")
    url = user.url("transactions", txn["id"])
    refused = user.patch(url, json={"type": "transfer", "transfer_account_id": eur["id"]})
    assert refused.status_code == 422
    assert "transfer_amount" in refused.json["errors"]["json"]
    response = user.patch(
        url, json={"type": "transfer", "transfer_account_id": eur["id"], "transfer_amount": "37"}
    )
    assert response.status_code == 200, response.json
    assert (user.balance(usd), user.balance(eur)) == ("960.00", "87.00")
    back = user.patch(url, json={"type": "expense"})
    assert back.json["transfer_amount"] is None and back.json["transfer_currency"] is None
    assert (user.balance(usd), user.balance(eur)) == ("960.00", "50.00")


def test_moving_the_source_to_another_currency_needs_its_amount(user, usd, eur, jpy):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    response = user.patch(user.url("transactions", txn["id"]), json={"account_id": jpy["id"]})
    assert response.status_code == 422
    assert "amount" in response.json["errors"]["json"]
    moved = user.patch(
        user.url("transactions", txn["id"]), json={"account_id": jpy["id"], "amount": "40000"}
    )
    assert moved.status_code == 200
    assert moved.json["transfer_amount"] == "230.37"  # the destination side is its own fact
    assert (user.balance(usd), user.balance(jpy), user.balance(eur)) == (
        "1000.00",
        "-40000",
        "280.37",
    )


def test_the_account_filter_finds_a_transfer_on_both_sides(user, usd, eur):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    for account in (usd, eur):
        listed = user.get(user.url("transactions"), query_string={"account_id": account["id"]})
        assert [t["id"] for t in listed.json] == [txn["id"]]


def test_amount_filters_compare_the_source_side(user, usd, jpy):
    # 10.00 USD leaves, 1500 JPY arrives: min_amount=1000 compares 10.00, not 1500.
    txn = transfer(user, usd, jpy, "10.00", "1500").json
    big = user.get(user.url("transactions"), query_string={"min_amount": "1000"})
    assert big.json == []
    small = user.get(user.url("transactions"), query_string={"max_amount": "10.00"})
    assert [t["id"] for t in small.json] == [txn["id"]]


def test_closing_the_destination_reverses_the_source_side(user, usd, eur):
    transfer(user, usd, eur, "250.00", "230.37")
    assert user.delete(user.url("accounts", eur["id"])).status_code == 204
    assert user.balance(usd) == "1000.00"


def test_verify_reads_the_destination_side_from_transfer_amount(app, user, usd, eur):
    txn = transfer(user, usd, eur, "250.00", "230.37").json
    with app.app_context():
        assert ledger.verify() == []
        # Corrupt the destination side: verify names the destination's expected balance.
        db.session.execute(
            sa.text("UPDATE transactions SET transfer_amount = 23000 WHERE id = :id"),
            {"id": txn["id"]},
        )
        wrong = ledger.verify()
        # The monthly rollup the reports read counts the destination side too.
        month = txn["date"][:7]
        assert [(d.account_id, d.column, d.balance, d.expected) for d in wrong] == [
            (eur["id"], "balance", 28037, 28000),  # 50.00 + 230.00
            (eur["id"], f"month_totals {month} transfer_in category none amount", 23037, 23000),
            (eur["id"], f"flow_months {month} transfer_in amount", 23037, 23000),
        ]
        fixed = ledger.rebuild()
        assert len(fixed) == 3
        db.session.commit()
        assert ledger.verify() == []
    assert user.balance(eur) == "280.00"
