"""Transaction status (pending, cleared, reconciled), each account's cleared and reconciled
balances, and reconciling an account with a bank statement: all or nothing, once under
concurrency, and a reconciled transaction guarded until forced."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app import ledger
from app.extensions import db


@pytest.fixture
def checking(user):
    return user.account(name="Checking", currency="EUR", opening_balance="1500.00")


def post(user, account, amount, type="expense", date="2026-11-03", **fields):
    body = {"account_id": account["id"], "type": type, "amount": amount, "date": date, **fields}
    response = user.post(user.url("transactions"), json=body)
    assert response.status_code == 201, response.json
    return response.json


def account_of(user, account):
    return user.get(user.url("accounts", account["id"])).json


def balances(user, account):
    body = account_of(user, account)
    return body["balance"], body["cleared_balance"], body["reconciled_balance"]


def reconcile(user, account, statement_date, closing_balance):
    return user.post(
        user.url("accounts", account["id"]) + "/reconcile",
        json={"statement_date": statement_date, "closing_balance": closing_balance},
    )


def statuses(user):
    return {t["id"]: t["status"] for t in user.get(user.url("transactions")).json}


# --- status and the cleared and reconciled balances ------------------------------------------


def test_a_new_transaction_is_pending_and_counts_only_in_the_balance(user, checking):
    txn = post(user, checking, "3.80")
    assert txn["status"] == "pending"
    assert balances(user, checking) == ("1496.20", "1500.00", "1500.00")


def test_a_cleared_transaction_counts_in_the_cleared_balance(user, checking):
    post(user, checking, "2400.00", type="income", status="cleared")
    txn = post(user, checking, "3.80")
    response = user.patch(user.url("transactions", txn["id"]), json={"status": "cleared"})
    assert response.status_code == 200
    # 1500.00 + 2400.00 - 3.80
    assert balances(user, checking) == ("3896.20", "3896.20", "1500.00")
    user.patch(user.url("transactions", txn["id"]), json={"status": "pending"})
    assert balances(user, checking) == ("3896.20", "3900.00", "1500.00")


def test_reconciled_cannot_be_set_by_hand(user, checking):
    body = {"account_id": checking["id"], "type": "expense", "amount": "1", "status": "reconciled"}
    response = user.post(user.url("transactions"), json=body)
    assert response.status_code == 422
    assert "status" in response.json["errors"]["json"]


def test_a_transfers_sides_have_their_own_status(user, checking):
    savings = user.account(currency="EUR")
    txn = post(
        user,
        checking,
        "100.00",
        type="transfer",
        transfer_account_id=savings["id"],
        status="cleared",
        transfer_status="pending",
    )
    assert (txn["status"], txn["transfer_status"]) == ("cleared", "pending")
    assert balances(user, checking) == ("1400.00", "1400.00", "1500.00")
    assert balances(user, savings) == ("100.00", "0.00", "0.00")
    same = post(
        user, checking, "1.00", type="transfer", transfer_account_id=savings["id"], status="cleared"
    )
    assert same["transfer_status"] == "cleared"  # as status, unless given


def test_the_list_filters_by_status_on_the_listed_accounts_side(user, checking):
    savings = user.account(currency="EUR")
    cleared = post(user, checking, "5.00", status="cleared")
    pending = post(user, checking, "6.00")
    into = post(
        user,
        checking,
        "7.00",
        type="transfer",
        transfer_account_id=savings["id"],
        status="cleared",
        transfer_status="pending",
    )

    def listed(**query):
        response = user.get(user.url("transactions"), query_string=query)
        assert response.status_code == 200, response.json
        return sorted(t["id"] for t in response.json)

    assert listed(status="cleared") == [cleared["id"], into["id"]]
    assert listed(status="pending") == [pending["id"], into["id"]]  # either side
    assert listed(status="pending", account_id=savings["id"]) == [into["id"]]
    assert listed(status="cleared", account_id=savings["id"]) == []
    assert user.get(user.url("transactions"), query_string={"status": "x"}).status_code == 422


# --- reconciling ------------------------------------------------------------------------------


def test_a_matching_statement_reconciles_the_cleared_transactions_up_to_its_date(user, checking):
    salary = post(user, checking, "2400.00", type="income", date="2026-11-01", status="cleared")
    coffee = post(user, checking, "3.80", date="2026-11-03", status="cleared")
    pending = post(user, checking, "65.20", date="2026-11-05")
    later = post(user, checking, "12.00", date="2026-12-02", status="cleared")
    closing = "3896.20"  # 1500.00 + 2400.00 - 3.80: the pending and the later one are not in it
    response = reconcile(user, checking, "2026-11-30", closing)
    assert response.status_code == 200, response.json
    assert response.json == {
        "account_id": checking["id"],
        "statement_date": "2026-11-30",
        "closing_balance": "3896.20",
        "currency": "EUR",
        "reconciled": 2,
        "balance": "3819.00",  # 3896.20 - 65.20 - 12.00
        "cleared_balance": "3884.20",  # 3896.20 - 12.00
        "reconciled_balance": "3896.20",
    }
    assert statuses(user) == {
        salary["id"]: "reconciled",
        coffee["id"]: "reconciled",
        pending["id"]: "pending",
        later["id"]: "cleared",
    }
    assert balances(user, checking) == ("3819.00", "3884.20", "3896.20")


def test_a_statement_that_does_not_match_is_a_409_naming_the_difference(user, checking):
    post(user, checking, "2400.00", type="income", status="cleared")
    post(user, checking, "3.80", status="cleared")
    response = reconcile(user, checking, "2026-11-30", "3900.00")
    assert response.status_code == 409
    message = (
        "The statement's closing balance 3900.00 EUR is not the opening balance plus the "
        "cleared transactions up to 2026-11-30, 3896.20 EUR: a difference of 3.80 EUR. "
        "Nothing was reconciled."
    )
    assert response.json["message"] == message
    assert response.json["errors"] == {"json": {"closing_balance": [message]}}
    assert set(statuses(user).values()) == {"cleared"}
    assert balances(user, checking) == ("3896.20", "3896.20", "1500.00")


def test_the_closing_balance_is_exact_in_the_accounts_digits(user, checking):
    response = reconcile(user, checking, "2026-11-30", "1500.001")
    assert response.status_code == 422
    assert "closing_balance" in response.json["errors"]["json"]


def test_a_second_statement_counts_the_reconciled_ones_and_adds_the_newly_cleared(user, checking):
    post(user, checking, "100.00", date="2026-10-10", status="cleared")
    assert reconcile(user, checking, "2026-10-31", "1400.00").json["reconciled"] == 1
    post(user, checking, "50.00", type="income", date="2026-11-10", status="cleared")
    response = reconcile(user, checking, "2026-11-30", "1450.00")
    assert response.status_code == 200
    assert (response.json["reconciled"], response.json["reconciled_balance"]) == (1, "1450.00")
    again = reconcile(user, checking, "2026-11-30", "1450.00")
    assert (again.status_code, again.json["reconciled"]) == (200, 0)


def test_reconciling_one_side_of_a_transfer_leaves_the_other(user, checking):
    savings = user.account(currency="USD", opening_balance="10.00")
    txn = post(
        user,
        checking,
        "100.00",
        type="transfer",
        transfer_account_id=savings["id"],
        transfer_amount="108.52",
        status="cleared",
        transfer_status="cleared",
    )
    assert reconcile(user, savings, "2026-11-30", "118.52").json["reconciled"] == 1
    shown = user.get(user.url("transactions", txn["id"])).json
    assert (shown["status"], shown["transfer_status"]) == ("cleared", "reconciled")
    assert balances(user, savings) == ("118.52", "118.52", "118.52")
    assert balances(user, checking) == ("1400.00", "1400.00", "1500.00")


def test_concurrent_reconciles_of_one_account_reconcile_once(app, user, checking):
    for day in range(1, 21):
        post(user, checking, "1.25", date=f"2026-11-{day:02d}", status="cleared")
    closing = "1475.00"  # 1500.00 - 20 x 1.25
    barrier = threading.Barrier(4)

    def run(_):
        me = dataclasses.replace(user, client=app.test_client())
        barrier.wait()
        response = reconcile(me, checking, "2026-11-30", closing)
        return response.status_code, response.json["reconciled"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = sorted(pool.map(run, range(4)))
    assert results == [(200, 0), (200, 0), (200, 0), (200, 20)]
    assert balances(user, checking) == ("1475.00", "1475.00", "1475.00")


# --- a reconciled transaction is guarded ------------------------------------------------------


@pytest.fixture
def reconciled(user, checking):
    txn = post(user, checking, "3.80", status="cleared")
    assert reconcile(user, checking, "2026-11-30", "1496.20").status_code == 200
    return txn


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "4.00"},
        {"date": "2026-11-04"},
        {"type": "income"},
        {"status": "cleared"},
    ],
)
def test_a_reconciled_transaction_keeps_what_the_statement_showed(
    user, checking, reconciled, change
):
    url = user.url("transactions", reconciled["id"])
    response = user.patch(url, json=change)
    assert response.status_code == 409
    assert "force=true" in response.json["message"]
    assert user.get(url).json["amount"] == "3.80"
    assert balances(user, checking) == ("1496.20", "1496.20", "1496.20")


def test_moving_a_reconciled_transaction_to_another_account_is_409(user, checking, reconciled):
    other = user.account(currency="EUR")
    response = user.patch(
        user.url("transactions", reconciled["id"]), json={"account_id": other["id"]}
    )
    assert response.status_code == 409


def test_a_reconciled_transactions_description_changes_freely(user, reconciled):
    url = user.url("transactions", reconciled["id"])
    response = user.put(url, json={"description": "Flat white", "amount": "3.80"})
    assert response.status_code == 200  # the same amount sent again changes nothing guarded
    assert response.json["description"] == "Flat white"


def test_force_changes_a_reconciled_transaction_and_its_reconciled_balance(
    user, checking, reconciled
):
    url = user.url("transactions", reconciled["id"])
    response = user.patch(url + "?force=true", json={"amount": "4.00"})
    assert response.status_code == 200
    assert response.json["status"] == "reconciled"
    assert balances(user, checking) == ("1496.00", "1496.00", "1496.00")


def test_deleting_a_reconciled_transaction_needs_force(user, checking, reconciled):
    url = user.url("transactions", reconciled["id"])
    assert user.delete(url).status_code == 409
    assert user.get(url).status_code == 200
    assert user.delete(url + "?force=true").status_code == 204
    assert balances(user, checking) == ("1500.00", "1500.00", "1500.00")


def test_a_new_opening_balance_moves_all_three_balances(user, checking, reconciled):
    user.patch(user.url("accounts", checking["id"]), json={"opening_balance": "1000.00"})
    assert balances(user, checking) == ("996.20", "996.20", "996.20")


def test_verify_checks_the_cleared_and_reconciled_balances(app, user, checking, reconciled):
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE accounts SET reconciled_balance = 0 WHERE id = :id"),
            {"id": checking["id"]},
        )
        db.session.commit()
        wrong = ledger.verify()
        assert [(d.column, d.balance, d.expected) for d in wrong] == [
            ("reconciled_balance", 0, 149620)
        ]
        ledger.rebuild()
        db.session.commit()
        assert ledger.verify() == []


def test_each_side_of_a_transfer_guards_only_what_its_statement_showed(user, checking):
    dollars = user.account(currency="USD", opening_balance="0.00")
    txn = post(
        user,
        checking,
        "100.00",
        type="transfer",
        transfer_account_id=dollars["id"],
        transfer_amount="108.52",
        transfer_status="cleared",
    )
    assert reconcile(user, dollars, "2026-11-30", "108.52").json["reconciled"] == 1
    url = user.url("transactions", txn["id"])
    # The source side is not reconciled: its amount may change; the destination's may not.
    assert user.patch(url, json={"amount": "100.50"}).status_code == 200
    refused = user.patch(url, json={"transfer_amount": "108.00"})
    assert refused.status_code == 409
    assert refused.json["message"] == (
        f"Transaction {txn['id']} is reconciled with a bank statement: changing its "
        "transfer_amount needs force=true."
    )
    assert user.patch(url, json={"date": "2026-11-04"}).status_code == 409  # both sides' date
    assert balances(user, checking) == ("1399.50", "1500.00", "1500.00")
    assert balances(user, dollars) == ("108.52", "108.52", "108.52")


def test_the_ledger_verify_command_names_a_wrong_cleared_balance(app, runner, user, checking):
    post(user, checking, "3.80", status="cleared")
    with app.app_context():
        db.session.execute(
            sa.text("UPDATE accounts SET cleared_balance = cleared_balance + 1 WHERE id = :id"),
            {"id": checking["id"]},
        )
        db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert (
        f"account {checking['id']} (user {user.id}): cleared balance 1496.21 EUR, expected "
        "1496.20 EUR, difference 0.01 EUR"
    ) in result.output
    assert "Corrected 1 account(s)." in runner.invoke(args=["ledger", "rebuild"]).output
