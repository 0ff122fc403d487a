"""A smoke pass on SQLite, the database `make run` uses: the migrations build the schema and the
main flows give the same exact answers as on PostgreSQL.

The app here is a development-like one pointed at a temporary SQLite file. It does not use the
`app` fixture, so conftest's PostgreSQL clean-up and invariant check do not run; each test
checks the ledger itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app, ledger
from app.extensions import db
from config import DevelopmentConfig
from tests.conftest import register

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "migrations")


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "finance.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", f"sqlite:///{path}")
        # Given keys, so that DevelopmentConfig writes none into instance/.
        env.setenv("SECRET_KEY", "sqlite-smoke-secret-key-0123456789abcdef")
        env.setenv("JWT_SECRET_KEY", "sqlite-smoke-jwt-secret-key-0123456789abcdef")
        env.setenv("RATELIMIT_STORAGE_URI", "memory://")
        env.setenv("ARGON2_MEMORY_COST", "19456")
        env.setenv("ARGON2_TIME_COST", "2")
        env.setenv("ARGON2_PARALLELISM", "1")
        app = create_app(DevelopmentConfig())
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def sqlite_user(sqlite_app, request):
    return register(sqlite_app.test_client(), f"sqlite_{request.node.name[:40]}")


def verify(app):
    with app.app_context():
        return ledger.verify()


def test_migrations_build_every_table_on_sqlite(sqlite_app):
    with sqlite_app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"users", "accounts", "categories", "transactions", "alembic_version"} <= tables


def test_foreign_keys_are_enforced_on_sqlite(sqlite_app):
    with sqlite_app.app_context():
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_a_whole_day_of_bookkeeping_on_sqlite(sqlite_app, sqlite_user):
    user = sqlite_user
    checking = user.account(name="Checking", opening_balance="100.00")
    savings = user.account(name="Savings")
    yen = user.account(name="Yen", currency="JPY")
    food = user.category(name="Food")

    salary = user.transaction(checking, amount="1000.00", type="income", date="2026-01-01")
    coffee = user.transaction(
        checking, amount="0.10", category_id=food["id"], description="Coffee", date="2026-01-02"
    )
    user.transaction(checking, amount="0.20", category_id=food["id"], payee="COFFEE_SHOP")
    saving = user.transaction(
        checking,
        amount="200.00",
        type="transfer",
        transfer_account_id=savings["id"],
        date="2026-01-03",
    )
    ramen = user.transaction(yen, amount="1200", date="2026-01-02", description="Ramen")
    assert ramen["amount"] == "1200" and coffee["amount"] == "0.10"
    assert coffee["created_at"].endswith(("Z", "+00:00"))
    assert [user.balance(a) for a in (checking, savings, yen)] == ["899.70", "200.00", "-1200"]

    def listed(**params):
        response = user.get(user.url("transactions"), query_string=params)
        assert response.status_code == 200, response.json
        return [txn["id"] for txn in response.json], response.headers["X-Total-Count"]

    assert listed(account_id=savings["id"]) == ([saving["id"]], "1")
    assert listed(q="coffee")[1] == "2"
    assert listed(q="_")[1] == "1"  # literal, not a LIKE wildcard
    assert listed(min_amount="12.50") == ([saving["id"], ramen["id"], salary["id"]], "3")
    assert listed(sort_by="amount", limit=2)[0] == [ramen["id"], salary["id"]]
    assert listed(start_date="2026-01-02", end_date="2026-01-02", order="asc")[0] == [
        coffee["id"],
        ramen["id"],
    ]
    assert listed(category_id=food["id"])[1] == "2"
    assert listed(uncategorized="true")[1] == "3"

    assert (
        user.patch(user.url("transactions", saving["id"]), json={"amount": "250.00"}).status_code
        == 200
    )
    assert (
        user.patch(user.url("transactions", salary["id"]), json={"type": "expense"}).status_code
        == 200
    )
    assert [user.balance(a) for a in (checking, savings)] == ["-1150.30", "250.00"]

    assert user.delete(user.url("transactions", coffee["id"])).status_code == 204
    assert user.balance(checking) == "-1150.20"
    assert user.delete(user.url("accounts", savings["id"])).status_code == 204
    assert user.balance(checking) == "-900.20"
    assert verify(sqlite_app) == []


def test_a_duplicate_account_name_is_409_on_sqlite(sqlite_user):
    sqlite_user.account(name="Twice")
    response = sqlite_user.post(sqlite_user.url("accounts"), json={"name": "Twice"})
    assert response.status_code == 409


def test_a_balance_pushed_beyond_its_bound_is_422_on_sqlite(sqlite_app, sqlite_user):
    # SQLite names a failed CHECK only in its message: the 422 proves errors.py finds it there.
    full = sqlite_user.account(name="Full")
    near_bound = "UPDATE accounts SET balance = 900000000000000000 - 1 WHERE id = :id"
    with sqlite_app.app_context():
        db.session.execute(sa.text(near_bound), {"id": full["id"]})
        db.session.commit()
    response = sqlite_user.post(
        sqlite_user.url("transactions"),
        json={"account_id": full["id"], "type": "income", "amount": "0.02"},
    )
    assert response.status_code == 422
    assert sqlite_user.delete(sqlite_user.url("accounts", full["id"])).status_code == 204


def test_import_export_and_rules_on_sqlite(sqlite_app, sqlite_user):
    """The bulk insert's other path (a Core executemany instead of COPY), dedup and export."""
    import io

    user = sqlite_user
    account = user.account(name="Imported", opening_balance="0.00")
    food = user.category(name="Food on SQLite")
    assert (
        user.post(
            user.url("rules"), json={"pattern": "café", "category_id": food["id"]}
        ).status_code
        == 201
    )
    data = (
        "Date,Description,Amount\n"
        "2025-01-02,Café,-3.50\n2025-01-02,Café,-3.50\n2025-01-03,Pay,100\n"
    )

    def send():
        return user.client.post(
            f"/users/{user.id}/accounts/{account['id']}/import",
            data={"file": (io.BytesIO(data.encode()), "s.csv")},
            headers=user.headers,
            content_type="multipart/form-data",
        )

    assert (send().json["added"], send().json["duplicates"]) == (3, 3)
    assert user.balance(account) == "93.00"
    rows = user.get(user.url("transactions") + "?q=Caf").json
    assert [row["category_id"] for row in rows] == [food["id"], food["id"]]
    exported = user.get(user.url("transactions") + "export").get_data(as_text=True)
    assert exported.count("\r\n") == 4 and "-3.50" in exported
    assert verify(sqlite_app) == []


def test_backup_of_everything_round_trips_on_sqlite(sqlite_app, sqlite_user):
    """The restore's other paths: splits, tags and occurrences written by executemany, the new
    transactions' ids read back in the order SQLite gave them."""
    import json

    from tests.test_backup import canonical, make_everything, restore

    make_everything(sqlite_user)
    document = json.loads(sqlite_user.get("/users/me/export").get_data())
    fresh = register(sqlite_app.test_client(), "sqlite_restorer")
    response = restore(fresh, json.dumps(document).encode())
    assert response.status_code == 201, response.json
    again = json.loads(fresh.get("/users/me/export").get_data())
    assert canonical(again) == canonical(document)
    assert verify(sqlite_app) == []
