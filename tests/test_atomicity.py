"""A request that fails part-way leaves no row and no balance change behind.

Failures are injected where they hurt most: after the first balance change, after every
balance change but before the row is written, as a constraint violation on the row itself,
and as a bad reference discovered late in an update.
"""

from __future__ import annotations

import pytest

from app import ledger
from app.ledger import rollups

BOOM = "injected failure"


@pytest.fixture
def savings(user):
    return user.account(name="Savings", opening_balance="50.00")


def break_ledger(monkeypatch, *, first_only: bool, failures: int | None = None) -> None:
    """From now on the ledger's balance changes (`apply`, and `follow_posting`'s one text after
    a posting's rows) change every balance, or only the first, for real; then the request dies
    (the first `failures` times, or every time)."""
    real_apply, real_follow = ledger.apply, ledger.follow_posting
    calls = []

    def die():
        calls.append(1)
        if failures is None or len(calls) <= failures:
            raise RuntimeError(BOOM)

    def first_of(changes):
        return [[next(change for group in changes for change in group if change[1])]]

    def apply(*changes):
        changes = [list(change) for change in changes]
        real_apply(*(first_of(changes) if first_only else changes))
        die()

    def follow_posting(user_id, changes, sums, count):
        changes = [list(change) for change in changes]
        if first_only:
            real_follow(user_id, first_of(changes), rollups.no_sums(), 0)
        else:
            real_follow(user_id, changes, sums, count)
        die()

    monkeypatch.setattr(ledger, "apply", apply)
    monkeypatch.setattr(ledger, "follow_posting", follow_posting)


def apply_one_then_fail(monkeypatch) -> None:
    break_ledger(monkeypatch, first_only=True)


@pytest.fixture
def fail_after_first_balance_change(monkeypatch):
    apply_one_then_fail(monkeypatch)


@pytest.fixture
def fail_after_every_balance_change(monkeypatch):
    break_ledger(monkeypatch, first_only=False)


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
    break_ledger(monkeypatch, first_only=False, failures=1)
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


def test_a_constraint_violation_after_the_balances_changed_leaves_nothing(
    user, account, savings, monkeypatch
):
    # The row and its balance moves are written first; then a statement after them (where a
    # create adds its splits and tags) breaks the transfer CHECK on the row.
    import sqlalchemy as sa

    from app.extensions import db

    def corrupt_the_row(user_id, **parts):
        db.session.execute(
            sa.text("UPDATE transactions SET transfer_account_id = account_id WHERE user_id = :u"),
            {"u": user_id},
        )

    monkeypatch.setattr(ledger, "add_parts", corrupt_the_row)
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


def test_a_balance_pushed_past_its_bound_is_a_422_and_leaves_nothing(app, user, account):
    """The bound is the accounts CHECK, met in the one text after the row (follow_posting):
    the 422 rolls back the row inserted before it, the rollups and the count with it."""
    import sqlalchemy as sa

    from app.extensions import db

    # The balance moved by hand to 5.00 above the lowest one allowed, and back at the end.
    offset = -(9 * 10**17) + 500 - 10_000

    def shift(by: int) -> None:
        with app.app_context():
            db.session.execute(
                sa.text("UPDATE accounts SET balance = balance + :by WHERE id = :id"),
                {"by": by, "id": account["id"]},
            )
            db.session.commit()

    shift(offset)
    try:
        body = {"account_id": account["id"], "type": "expense", "amount": "5.01"}
        response = user.post(user.url("transactions"), json=body)
        assert response.status_code == 422, response.json
        assert "beyond" in response.json["message"]
        assert count(user) == 0
        assert user.get(user.url("transactions")).json == []
        created = user.post(user.url("transactions"), json={**body, "amount": "5.00"})
        assert created.status_code == 201
    finally:
        shift(-offset)
    assert count(user) == 1
    assert user.balance(account) == "95.00"
