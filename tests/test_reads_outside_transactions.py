"""The hot reads (`login_required(reads_only=True)`) run their statements outside a database
transaction: no BEGIN and no ROLLBACK round trips. A write on the same pooled connection
afterwards is in a transaction again, as every write must be."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db


@pytest.fixture
def autocommit(app):
    """For each statement sent while the block runs: was its connection in autocommit?"""
    seen: list[bool] = []

    def record(conn, cursor, statement, *args):
        seen.append(conn.connection.driver_connection.autocommit)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def test_the_hot_reads_run_outside_a_transaction(user, account, autocommit):
    txn = user.transaction(account, tags=["a"])
    for path in (
        "/users/me/",
        user.url("transactions"),
        user.url("transactions") + "?transaction_type=expense",
        user.url("transactions", txn["id"]),
    ):
        autocommit.clear()
        assert user.get(path).status_code == 200
        assert autocommit and all(autocommit), path


def test_a_missing_transaction_is_still_a_404(user, account, autocommit):
    assert user.get(user.url("transactions", 12345)).status_code == 404
    assert autocommit and all(autocommit)


def test_a_write_after_a_read_is_one_transaction(user, account, autocommit):
    for _ in range(3):  # whichever pooled connection the write gets, it has been a reader's
        assert user.get("/users/me/").status_code == 200
    autocommit.clear()
    created = user.post(
        user.url("transactions"),
        json={"account_id": account["id"], "type": "expense", "amount": "1.00"},
    )
    assert created.status_code == 201
    assert autocommit and not any(autocommit)
    assert user.balance(account) == "99.00"


def test_an_autocommit_engine_of_its_own_keeps_its_mode_after_checkin(app):
    # The pool listeners see every engine in the process: one made for CREATE/DROP DATABASE
    # (isolation_level="AUTOCOMMIT") must not come back from the pool inside transactions.
    with app.app_context():
        url = db.engine.url
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.QueuePool)
    try:
        for _ in range(2):
            with engine.connect() as connection:
                assert connection.connection.driver_connection.autocommit is True
                connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
