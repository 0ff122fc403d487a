"""Idempotency-Key on POST /users/{id}/transactions/: Stripe's semantics, proven.

A retry with the same key and body replays the first response and changes nothing; another
body under the same key is a 422; identical requests arriving together create one transaction;
keys expire after 24 hours and `flask prune-idempotency-keys` deletes them.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.extensions import db


def post(user, body, key):
    return user.client.post(
        user.url("transactions"),
        json=body,
        headers={**user.headers, "Idempotency-Key": key},
    )


def count_transactions(user) -> int:
    return int(user.get(user.url("transactions")).headers["X-Total-Count"])


def expense(account, amount="10.00"):
    return {"account_id": account["id"], "type": "expense", "amount": amount}


def test_first_request_with_a_key_creates_the_transaction(user, account):
    response = post(user, expense(account), "key-1")
    assert response.status_code == 201
    assert user.balance(account) == "90.00"
    assert "Idempotent-Replayed" not in response.headers


def test_retry_with_the_same_key_replays_the_first_response(user, account):
    first = post(user, expense(account), "key-1")
    retry = post(user, expense(account), "key-1")
    assert retry.status_code == first.status_code == 201
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_retry_with_the_same_key_changes_nothing(user, account):
    post(user, expense(account), "key-1")
    post(user, expense(account), "key-1")
    assert count_transactions(user) == 1
    assert user.balance(account) == "90.00"


def test_same_key_with_the_same_data_in_another_key_order_is_a_replay(user, account):
    post(user, {"amount": "10.00", "type": "expense", "account_id": account["id"]}, "key-1")
    retry = post(user, expense(account), "key-1")
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert count_transactions(user) == 1


def test_same_key_with_a_different_body_is_a_422_and_changes_nothing(user, account):
    post(user, expense(account, "10.00"), "key-1")
    response = post(user, expense(account, "20.00"), "key-1")
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json["errors"]["headers"]
    assert user.balance(account) == "90.00"


def test_without_a_key_every_request_creates_a_transaction(user, account):
    user.transaction(account)
    user.transaction(account)
    assert count_transactions(user) == 2


def test_keys_belong_to_their_user(user, other_user, account):
    theirs = other_user.account(name="Theirs", opening_balance="50.00")
    post(user, expense(account), "shared-key")
    response = post(other_user, expense(theirs), "shared-key")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert other_user.balance(theirs) == "40.00"


def test_a_failed_request_stores_no_key_so_a_retry_runs_again(user, account):
    missing = {"account_id": 999999, "type": "expense", "amount": "1.00"}
    assert post(user, missing, "key-1").status_code == 404
    # The same key is free: a request that failed changed nothing, not even the key.
    assert post(user, expense(account), "key-1").status_code == 201
    assert user.balance(account) == "90.00"


def test_a_transfer_retried_with_its_key_moves_money_once(user, account):
    savings = user.account(name="Savings")
    body = {
        "account_id": account["id"],
        "transfer_account_id": savings["id"],
        "type": "transfer",
        "amount": "25.00",
    }
    for _ in range(3):
        assert post(user, body, "transfer-1").status_code == 201
    assert (user.balance(account), user.balance(savings)) == ("75.00", "25.00")


def test_fifty_identical_requests_at_the_same_moment_create_one_transaction(app, user, account):
    barrier = threading.Barrier(50)

    def send(_):
        me = dataclasses.replace(user, client=app.test_client())
        barrier.wait()
        response = post(me, expense(account, "1.00"), "the-same-key")
        return response.status_code, response.json

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(send, range(50)))

    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert count_transactions(user) == 1
    assert user.balance(account) == "99.00"


def test_a_key_longer_than_255_characters_is_a_422(user, account):
    response = post(user, expense(account), "k" * 256)
    assert response.status_code == 422
    assert count_transactions(user) == 0


def age_keys(app, hours: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.text(
                f"UPDATE idempotency_keys SET created_at = created_at - interval '{hours} hours'"
            )
        )
        db.session.commit()


def test_a_key_older_than_24_hours_is_free_again(app, user, account):
    post(user, expense(account), "key-1")
    age_keys(app, 25)
    response = post(user, expense(account), "key-1")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert count_transactions(user) == 2


def count_keys(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.text("SELECT count(*) FROM idempotency_keys"))


def test_prune_deletes_expired_keys_and_keeps_fresh_ones(app, runner, user, account):
    post(user, expense(account), "old")
    age_keys(app, 25)
    post(user, expense(account), "new")
    result = runner.invoke(args=["prune-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "Deleted 1" in result.output
    assert count_keys(app) == 1


def test_idempotency_key_header_is_documented(client):
    operation = client.get("/openapi.json").json["paths"]["/users/{user_id}/transactions/"]["post"]
    names = [param.get("name") for param in operation.get("parameters", [])]
    assert "Idempotency-Key" in names


def test_a_duplicate_arriving_while_the_first_runs_waits_and_replays_it(app, user, account):
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.connect() as blocker, ThreadPoolExecutor(max_workers=2) as pool:
        # Hold the account so the first request stalls after claiming its key.
        lock = "SELECT id FROM accounts WHERE id = :id FOR UPDATE"
        blocker.execute(sa.text(lock), {"id": account["id"]})
        clients = [dataclasses.replace(user, client=app.test_client()) for _ in range(2)]
        first = pool.submit(post, clients[0], expense(account), "slow-key")
        time.sleep(0.3)
        duplicate = pool.submit(post, clients[1], expense(account), "slow-key")
        time.sleep(0.3)
        assert not first.done() and not duplicate.done()
        blocker.rollback()
        first, duplicate = first.result(timeout=30), duplicate.result(timeout=30)
    engine.dispose()
    assert (first.status_code, duplicate.status_code) == (201, 201)
    assert duplicate.json == first.json
    assert duplicate.headers["Idempotent-Replayed"] == "true"
    assert count_transactions(user) == 1
