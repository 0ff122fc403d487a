"""The ledger: what a transaction does to balances, and `verify`/`rebuild` finding and fixing a
balance that no longer matches its transactions.

Balances are broken on purpose here with raw SQL (the app itself never writes one except
through app.ledger); the `corrupt` fixture puts every account right again before the autouse
invariant check runs.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import ledger
from app.extensions import db


@pytest.fixture
def corrupt(app):
    """corrupt(account, delta): add `delta` minor units to a balance behind the ledger's back."""

    def corrupt(account: dict, delta: int) -> None:
        with app.app_context():
            db.session.execute(
                sa.text("UPDATE accounts SET balance = balance + :delta WHERE id = :id"),
                {"delta": delta, "id": account["id"]},
            )
            db.session.commit()

    yield corrupt
    with app.app_context():
        ledger.rebuild()
        db.session.commit()


def verify(app, user_id=None):
    with app.app_context():
        return ledger.verify(user_id)


@pytest.fixture
def books(user, account):
    """Two accounts with income, an expense and transfers both ways."""
    savings = user.account(name="Savings", opening_balance="-20.00")
    user.transaction(account, amount="50.00", type="income")
    user.transaction(account, amount="12.34")
    user.transaction(account, amount="30.00", type="transfer", transfer_account_id=savings["id"])
    user.transaction(savings, amount="5.00", type="transfer", transfer_account_id=account["id"])
    return account, savings


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("income", [(1, 500)]),
        ("expense", [(1, -500)]),
        ("transfer", [(1, -500), (2, 500)]),
    ],
)
def test_each_type_has_its_effect_on_balances(type_, expected):
    destination = 2 if type_ == "transfer" else None
    assert ledger.effects(type_, 1, destination, 500) == expected


def test_matching_balances_verify_clean(app, user, books):
    account, savings = books
    assert (user.balance(account), user.balance(savings)) == ("112.66", "5.00")
    assert verify(app) == []


def test_verify_finds_a_broken_balance(app, user, books, corrupt):
    account, _ = books
    corrupt(account, 7)
    assert verify(app) == [
        ledger.Discrepancy(
            account_id=account["id"], user_id=user.id, currency="USD", balance=11273, expected=11266
        )
    ]


def test_verify_for_one_user_ignores_other_users(app, user, other_user, books, corrupt):
    theirs = other_user.account(opening_balance="1.00")
    corrupt(theirs, -1)
    assert verify(app, user.id) == []
    assert [item.account_id for item in verify(app, other_user.id)] == [theirs["id"]]


def test_flask_ledger_verify_exits_1_and_prints_the_difference(runner, books, corrupt):
    account, savings = books
    corrupt(savings, -250)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert f"account {savings['id']}" in result.output
    assert "balance 2.50 USD, expected 5.00 USD, difference -2.50 USD" in result.output
    assert f"account {account['id']}" not in result.output


def test_flask_ledger_verify_exits_0_when_every_balance_matches(runner, books):
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "All balances match" in result.output


def test_flask_ledger_rebuild_repairs_a_broken_balance(app, user, runner, books, corrupt):
    account, savings = books
    corrupt(account, 1)
    corrupt(savings, 999)
    result = runner.invoke(args=["ledger", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Corrected 2 account(s)" in result.output
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    assert (user.balance(account), user.balance(savings)) == ("112.66", "5.00")


def test_flask_ledger_rebuild_leaves_correct_balances_alone(runner, books):
    result = runner.invoke(args=["ledger", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "Corrected 0 account(s)" in result.output


def test_post_many_takes_objects_made_with_parts_or_already_added_the_orm_way(app, user, account):
    """Core inserts a posting's plain rows (app.ledger.insert_objects); a transaction made with
    its splits or tags, or already in the session, is flushed instead, parts and all, and the
    rollups (checked after every test) count both kinds."""
    from datetime import date
    from decimal import Decimal

    from app.transactions.models import Transaction, TransactionSplit, TransactionTag

    food, rent = user.category(name="Food"), user.category(name="Rent")
    with app.app_context():

        def new(**fields):
            return Transaction(
                type="expense", account_id=account["id"], date=date(2026, 11, 2), **fields
            )

        split = new(
            splits=[
                TransactionSplit(user_id=user.id, category_id=food["id"], amount=300),
                TransactionSplit(user_id=user.id, category_id=rent["id"], amount=700),
            ],
            tag_rows=[TransactionTag(user_id=user.id, tag="house")],
        )
        added = new(splits=[], tag_rows=[])
        db.session.add(added)
        plain = new(splits=[], tag_rows=[], category_id=food["id"])
        ledger.post_many(
            user.id, [(split, Decimal("10.00")), (added, Decimal("1.00")), (plain, Decimal("2"))]
        )
        db.session.commit()
        ids = [txn.id for txn in (split, added, plain)]
        db.session.remove()
    assert all(ids)
    shown = {i: user.get(user.url("transactions", i)).json for i in ids}
    assert [part["amount"] for part in shown[ids[0]]["splits"]] == ["3.00", "7.00"]
    assert shown[ids[0]]["tags"] == ["house"]
    assert [shown[i]["amount"] for i in ids] == ["10.00", "1.00", "2.00"]
    assert user.balance(account) == "87.00"  # 100.00 opening, less 13.00
    assert verify(app) == []
