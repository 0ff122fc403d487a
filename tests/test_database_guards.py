"""The database itself refuses impossible rows, so a bug elsewhere fails loudly.

Each test writes one impossible row with raw SQL, past every Python check, and expects
PostgreSQL to reject it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db

INSERT = sa.text(
    "INSERT INTO transactions (user_id, account_id, transfer_account_id, type, amount, currency,"
    " amount_scaled, date, description, created_at, updated_at, status, transfer_amount,"
    " transfer_currency, transfer_status)"
    " VALUES (:user_id, :account_id, :transfer_account_id, :type, :amount, 'USD', :amount * 100,"
    " '2025-01-01', '', now(), now(), 'pending', :transfer_amount, :transfer_currency,"
    " :transfer_status)"
)


@pytest.fixture
def ids(user, account):
    savings = user.account(name="Savings")
    return {"user_id": user.id, "account_id": account["id"], "other_id": savings["id"]}


def insert(app, ids, **values):
    row = {
        "user_id": ids["user_id"],
        "account_id": ids["account_id"],
        "transfer_account_id": None,
        "type": "expense",
        "amount": 100,
        **values,
    }
    # A transfer's destination side, unless the test says otherwise.
    side = row["type"] == "transfer"
    row.setdefault("transfer_amount", row["amount"] if side else None)
    row.setdefault("transfer_currency", "USD" if side else None)
    row.setdefault("transfer_status", "pending" if side else None)
    with app.app_context():
        try:
            db.session.execute(INSERT, row)
            db.session.commit()
        finally:
            db.session.rollback()


def test_a_valid_row_is_accepted_so_the_guards_below_are_meaningful(app, ids):
    insert(app, ids, type="transfer", transfer_account_id=ids["other_id"])
    with app.app_context():
        # Keep the ledger invariant the conftest checks: undo the raw insert.
        deleted = db.session.execute(sa.text("DELETE FROM transactions")).rowcount
        db.session.commit()
    assert deleted == 1


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_that_is_not_positive_is_refused(app, ids, amount):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_amount_range"):
        insert(app, ids, amount=amount)


def test_a_transfer_without_a_destination_is_refused(app, ids):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_transfer_destination"):
        insert(app, ids, type="transfer")


@pytest.mark.parametrize(
    "side",
    [
        {"transfer_amount": None},
        {"transfer_amount": 0},
        {"transfer_currency": None},
        {"transfer_status": None},
        {"transfer_status": "settled"},
    ],
)
def test_a_transfer_without_a_whole_destination_side_is_refused(app, ids, side):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_(transfer_side|transaction_)"):
        insert(app, ids, type="transfer", transfer_account_id=ids["other_id"], **side)


def test_income_with_a_destination_side_is_refused(app, ids):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_transfer_side"):
        insert(app, ids, transfer_amount=100, transfer_currency="USD", transfer_status="pending")


def test_a_transfer_to_its_own_account_is_refused(app, ids):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_transfer_destination"):
        insert(app, ids, type="transfer", transfer_account_id=ids["account_id"])


@pytest.mark.parametrize("type_", ["income", "expense"])
def test_income_or_expense_with_a_destination_is_refused(app, ids, type_):
    with pytest.raises(sa.exc.IntegrityError, match="ck_transactions_transfer_destination"):
        insert(app, ids, type=type_, transfer_account_id=ids["other_id"])


def test_an_unknown_transaction_type_is_refused(app, ids):
    with pytest.raises(sa.exc.IntegrityError, match="transaction_type"):
        insert(app, ids, type="gift")


def test_a_transaction_on_a_missing_account_is_refused(app, ids):
    with pytest.raises(sa.exc.IntegrityError, match="fk_transactions_account_id_accounts"):
        insert(app, ids, account_id=999999)


def test_a_balance_beyond_its_bound_is_refused(app, ids):
    with app.app_context(), pytest.raises(sa.exc.IntegrityError, match="ck_accounts_balance_range"):
        try:
            db.session.execute(
                sa.text("UPDATE accounts SET balance = 10 ^ 18 WHERE id = :id"),
                {"id": ids["account_id"]},
            )
        finally:
            db.session.rollback()
