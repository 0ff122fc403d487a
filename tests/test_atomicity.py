"""A request that fails part-way leaves no row and no balance change behind.

Failures are injected where they hurt most: after the first balance change, after every
balance change but before the row is written, as a constraint violation on the row itself,
and as a bad reference discovered late in an update.
"""

from __future__ import annotations

import pytest

from app import ledger

BOOM = "injected failure"


@pytest.fixture
def savings(user):
    return user.account(name="Savings", opening_balance="50.00")


def apply_one_then_fail(monkeypatch) -> None:
    """From now on ledger.apply changes one balance for real, then the request dies."""
    real_apply = ledger.apply

    def apply_one(session, *changes):
        first = next(change for group in changes for change in group if change[1])
        real_apply(session, [first])
        raise RuntimeError(BOOM)

    monkeypatch.setattr(ledger, "apply", apply_one)


@pytest.fixture
def fail_after_first_balance_change(monkeypatch):
    apply_one_then_fail(monkeypatch)


@pytest.fixture
def fail_after_every_balance_change(monkeypatch):
    real_apply = ledger.apply

    def apply_then_fail(session, *changes):
        real_apply(session, *changes)
        raise RuntimeError(BOOM)

    monkeypatch.setattr(ledger, "apply", apply_then_fail)


def balances(user, *accounts) -> tuple[str, ...]:
    return tuple(user.balance(a) for a in accounts)


def count(user) -> int:
    return int(user.get(user.url("transactions")).headers["X-Total-Count"])


def transfer(account, savings, amount="30.00"):
    return {
        "account_id": account["id"],
        "transfer_account_id": savings["id"],
        "type": "transfer",
        "amount": amount,
    }


def test_a_transfer_that_dies_after_the_first_balance_change_leaves_nothing(
    user, account, savings, fail_after_first_balance_change
):
    response = user.post(user.url("transactions"), json=transfer(account, savings))
    assert response.status_code == 500
    assert count(user) == 0
    assert balances(user, account, savings) == ("100.00", "50.00")


def test_a_create_that_dies_after_the_balance_changes_leaves_nothing(
    user, account, fail_after_every_balance_change
):
    body = {"account_id": account["id"], "type": "expense", "amount": "10.00"}
    assert user.post(user.url("transactions"), json=body).status_code == 500
    assert count(user) == 0
    assert user.balance(account) == "100.00"


def test_a_create_retried_with_its_key_after_dying_part_way_records_it_once(
    user, account, monkeypatch
):
    real_apply = ledger.apply
    calls = []

    def fail_once(session, *changes):
        real_apply(session, *changes)
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(BOOM)

    monkeypatch.setattr(ledger, "apply", fail_once)
    headers = {**user.headers, "Idempotency-Key": "retry-me"}
    body = {"account_id": account["id"], "type": "expense", "amount": "10.00"}
    url = user.url("transactions")
    assert user.client.post(url, json=body, headers=headers).status_code == 500
    assert user.client.post(url, json=body, headers=headers).status_code == 201
    assert count(user) == 1
    assert user.balance(account) == "90.00"


def test_an_update_that_dies_after_the_first_balance_change_keeps_the_old_row(
    user, account, savings, monkeypatch
):
    txn = user.transaction(account, amount="10.00")
    apply_one_then_fail(monkeypatch)
    url = user.url("transactions", txn["id"])
    response = user.patch(url, json={"account_id": savings["id"], "amount": "40.00"})
    assert response.status_code == 500
    after = user.get(url).json
    assert (after["account_id"], after["amount"]) == (account["id"], "10.00")
    assert balances(user, account, savings) == ("90.00", "50.00")


def test_a_delete_that_dies_after_the_first_balance_change_keeps_the_transaction(
    user, account, savings, monkeypatch
):
    user.post(user.url("transactions"), json=transfer(account, savings))
    txn_id = user.get(user.url("transactions")).json[0]["id"]
    apply_one_then_fail(monkeypatch)
    assert user.delete(user.url("transactions", txn_id)).status_code == 500
    assert user.get(user.url("transactions", txn_id)).status_code == 200
    assert balances(user, account, savings) == ("70.00", "80.00")


def test_a_constraint_violation_on_the_row_after_the_balance_changed_leaves_nothing(
    user, account, savings, monkeypatch
):
    # The balances change first; then the row breaks the transfer CHECK when it is written.
    real_post = ledger.post

    def post_then_corrupt(txn, amount, *rest):
        real_post(txn, amount, *rest)
        txn.transfer_account_id = txn.account_id

    monkeypatch.setattr(ledger, "post", post_then_corrupt)
    response = user.post(user.url("transactions"), json=transfer(account, savings))
    assert response.status_code == 409
    assert count(user) == 0
    assert balances(user, account, savings) == ("100.00", "50.00")


def test_an_update_with_someone_elses_category_changes_nothing(user, other_user, account, savings):
    txn = user.transaction(account, amount="10.00")
    theirs = other_user.category(name="Theirs")
    url = user.url("transactions", txn["id"])
    body = {"account_id": savings["id"], "amount": "40.00", "category_id": theirs["id"]}
    assert user.patch(url, json=body).status_code == 404
    assert user.get(url).json["account_id"] == account["id"]
    assert balances(user, account, savings) == ("90.00", "50.00")


def test_an_account_delete_that_dies_part_way_reverses_nothing(user, account, savings, monkeypatch):
    user.post(user.url("transactions"), json=transfer(account, savings))
    apply_one_then_fail(monkeypatch)
    assert user.delete(user.url("accounts", savings["id"])).status_code == 500
    assert count(user) == 1
    assert balances(user, account, savings) == ("70.00", "80.00")
