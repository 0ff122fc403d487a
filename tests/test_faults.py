"""Faults: health probes, an unreachable database, and connections the database dropped.

When the database does not answer, requests get the one JSON error shape with status 503 and
Retry-After, never a 500; /healthz still answers (the process is up) while /readyz says 503.
Once the database answers again the app recovers by itself (app.common.db.drop_closed_connection
replaces the connections the server closed), no restart.
(Load-time faults under gunicorn are in test_stress_gunicorn.py.)
"""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from app import create_app
from app.extensions import db
from tests.conftest import Config


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def unreachable_app():
    """The app configured against a PostgreSQL that is not there."""
    app = create_app(Config(f"postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/nowhere"))
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_503_json(response) -> None:
    assert response.status_code == 503
    assert response.is_json
    assert response.json["code"] == 503
    assert int(response.headers["Retry-After"]) > 0


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_when_the_database_does(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_answers_even_when_the_database_does_not(unreachable_app):
    assert unreachable_app.test_client().get("/healthz").status_code == 200


def test_readyz_is_a_503_with_retry_after_when_the_database_does_not_answer(unreachable_app):
    assert_503_json(unreachable_app.test_client().get("/readyz"))


def test_login_is_a_503_not_a_500_when_the_database_does_not_answer(unreachable_app):
    response = unreachable_app.test_client().post(
        "/token", data={"username": "alice", "password": "correct horse battery"}
    )
    assert_503_json(response)


def test_an_authenticated_write_is_a_503_when_the_database_does_not_answer(unreachable_app):
    with unreachable_app.app_context():
        token = create_access_token(identity="1", additional_claims={"ver": 0, "rjti": "x"})
    response = unreachable_app.test_client().post(
        "/users/1/transactions/",
        json={"account_id": 1, "type": "expense", "amount": "1.00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_503_json(response)


def test_the_app_recovers_by_itself_after_its_connections_are_terminated(app, user, account):
    # Pool connections are now open; kill them all from a connection outside the pool.
    user.transaction(account, amount="1.00")
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        killed = conn.scalar(
            sa.text(
                # With a timeout, each call returns once that backend is gone.
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    engine.dispose()
    assert killed > 0
    # The pool notices the closed connections and replaces them: no 503, no restart.
    assert (
        user.post(
            user.url("transactions"),
            json={"account_id": account["id"], "type": "expense", "amount": "1.00"},
        ).status_code
        == 201
    )
    assert user.balance(account) == "98.00"


def test_a_deadlock_is_a_retryable_503_that_changes_nothing(app, user, account):
    savings = user.account(name="Savings")
    body = {
        "account_id": account["id"],
        "transfer_account_id": savings["id"],
        "type": "transfer",
        "amount": "5.00",
    }
    with app.app_context():
        engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    lock = "SELECT id FROM accounts WHERE id = :id FOR UPDATE"
    with engine.connect() as other:
        # Another writer holds the second account and will then want the first: a cycle.
        other.execute(sa.text(lock), {"id": savings["id"]})
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(user.post, user.url("transactions"), json=body)
            time.sleep(0.3)  # the request now holds the first account and waits
            other.execute(sa.text(lock), {"id": account["id"]})
            response = pending.result(timeout=30)
        other.rollback()
    engine.dispose()
    # PostgreSQL broke the cycle by aborting the request, which had waited longer.
    assert_503_json(response)
    assert user.get(user.url("transactions")).headers["X-Total-Count"] == "0"
    assert (user.balance(account), user.balance(savings)) == ("100.00", "0.00")
