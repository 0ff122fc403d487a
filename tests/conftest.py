"""Fixtures: a PostgreSQL test database migrated once, a clean slate per test, users with tokens,
accounts and categories made through the API (flaskr / bemserver style).

TEST_DATABASE_URL overrides the default postgresql://postgres@127.0.0.1:5432/finance_test;
under pytest-xdist each worker gets its own database (suffix _gw0, _gw1...).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from app import create_app, ledger
from app.extensions import db
from config import TestingConfig, normalise_database_url

TABLES = (
    "month_totals, flow_months, payee_months, tag_months,"
    " exchange_rates, idempotency_keys, rule_tags, rules, transaction_tags, transaction_splits,"
    " recurring_occurrences, budgets, transactions, recurring_transactions, categories, accounts,"
    " revoked_tokens, users"
)
#: Users whose maintained transaction count differs from their rows (user id, kept, actual).
MISCOUNTED_USERS = sa.text(
    "SELECT id, transaction_count, (SELECT count(*) FROM transactions t WHERE t.user_id = u.id)"
    " FROM users u"
    " WHERE transaction_count <> (SELECT count(*) FROM transactions t WHERE t.user_id = u.id)"
)
PASSWORD = "correct horse battery"


def database_url() -> str:
    url = make_url(
        normalise_database_url(
            os.environ.get("TEST_DATABASE_URL") or TestingConfig.DEFAULT_DATABASE_URL
        )
    )
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = url.set(database=f"{url.database}_{worker}")
    return url.render_as_string(hide_password=False)


def no_server_message(url: str, error: sa.exc.OperationalError) -> str:
    return (
        f"No PostgreSQL answers at {make_url(url).render_as_string(hide_password=True)}: "
        f"{str(error.orig).strip().splitlines()[0]}\n"
        "Start PostgreSQL or point TEST_DATABASE_URL at one "
        "(e.g. postgresql://postgres@127.0.0.1:5432/finance_test)."
    )


def ensure_database(url: str) -> None:
    """Create the test database if it is missing; exit with a clear message if no server."""
    target = make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    except sa.exc.OperationalError as exc:
        pytest.exit(no_server_message(url, exc), returncode=3)
    finally:
        server.dispose()


def pytest_sessionstart(session):
    """Before any test (and before pytest-xdist starts its workers, whose exits would come
    back as internal errors): one line, not a traceback, when no PostgreSQL answers."""
    if hasattr(session.config, "workerinput"):
        return
    url = database_url()
    server = sa.create_engine(make_url(url).set(database="postgres"))
    try:
        with server.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.exit(no_server_message(url, exc), returncode=3)
    finally:
        server.dispose()


class Config(TestingConfig):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = url


@pytest.fixture(scope="session")
def app():
    url = database_url()
    ensure_database(url)
    app = create_app(Config(url))
    # No app context stays pushed during tests: each request must get, and end, its own.
    with app.app_context():
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.execute(sa.text(f"DROP TABLE IF EXISTS {TABLES} CASCADE"))
        db.session.commit()
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request):
    """Every test starts from empty tables and ends with every balance matching its ledger
    and every user's transaction count matching their rows."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    yield
    with app.app_context():
        wrong = ledger.verify()
        miscounted = db.session.execute(MISCOUNTED_USERS).all()
        db.session.execute(sa.text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.session.remove()
    assert wrong == [], f"ledger invariant broken: {wrong}"
    assert miscounted == [], f"users.transaction_count out of step: {miscounted}"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def statements(app):
    """The SQL statements sent while the test runs, in order (the list may be cleared)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


_names = itertools.count(1)


@dataclass
class User:
    """A registered user with a fresh access token, and helpers to call the API as them."""

    client: object
    id: int
    username: str
    token: str
    refresh_token: str
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, resource: str, object_id: int | None = None) -> str:
        base = f"/users/{self.id}/{resource}/"
        return base if object_id is None else f"{base}{object_id}"

    def get(self, path, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, json=json, headers=self.headers, **kw)

    def put(self, path, json=None, **kw):
        return self.client.put(path, json=json, headers=self.headers, **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch(path, json=json, headers=self.headers, **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self.headers, **kw)

    def account(self, **fields) -> dict:
        """Open an account (USD, opening balance 0 unless given) and return its JSON."""
        body = {"name": f"Account {next(_names)}", "currency": "USD", **fields}
        response = self.post(self.url("accounts"), json=body)
        assert response.status_code == 201, response.json
        return response.json

    def category(self, **fields) -> dict:
        body = {"name": f"Category {next(_names)}", "kind": "expense", **fields}
        response = self.post("/categories/", json=body)
        assert response.status_code == 201, response.json
        return response.json

    def transaction(self, account: dict, amount="10.00", type="expense", **fields) -> dict:
        body = {"account_id": account["id"], "type": type, "amount": amount, **fields}
        response = self.post(self.url("transactions"), json=body)
        assert response.status_code == 201, response.json
        return response.json

    def balance(self, account: dict) -> str:
        return self.get(self.url("accounts", account["id"])).json["balance"]


def register(client, username: str, password: str = PASSWORD) -> User:
    response = client.post("/users/", json={"username": username, "password": password})
    assert response.status_code == 201, response.json
    token = client.post("/token", data={"username": username, "password": password})
    assert token.status_code == 200, token.json
    return User(
        client=client,
        id=response.json["id"],
        username=username,
        token=token.json["access_token"],
        refresh_token=token.json["refresh_token"],
    )


@pytest.fixture
def make_user(client):
    """A factory of registered, logged-in users: make_user() or make_user("alice")."""

    def make(username: str | None = None, password: str = PASSWORD) -> User:
        return register(client, username or f"user{next(_names)}", password)

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("mallory")


@pytest.fixture
def account(user):
    return user.account(name="Checking", opening_balance="100.00")
