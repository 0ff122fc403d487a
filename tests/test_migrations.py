"""The migrations: `upgrade -> downgrade base -> upgrade` works on PostgreSQL and on SQLite, and
a freshly migrated database matches the models exactly (autogenerate finds nothing to do).

PostgreSQL runs in a scratch database of its own (the test database's name + `_migr`),
created and dropped here, so the shared test database is never downgraded under other tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from app import create_app, ledger
from app.extensions import db
from tests.conftest import Config, database_url, ensure_database

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "migrations")
TABLES = {"users", "accounts", "categories", "transactions", "revoked_tokens"}


def drop_database(url: str) -> None:
    target = make_url(url)
    server = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="module")
def postgresql_url():
    url = make_url(database_url())
    url = url.set(database=f"{url.database}_migr").render_as_string(hide_password=False)
    drop_database(url)  # left over from an interrupted run
    ensure_database(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('migrations') / 'finance.db'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def migrated_app(request):
    """An app on an empty database of each kind; its engine is closed afterwards."""
    url = request.getfixturevalue(f"{request.param}_url")
    app = create_app(Config(url))
    with app.app_context():
        yield app
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        db.engine.dispose()


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def schema_differences() -> list:
    """What autogenerate would put in a new migration: nothing, if models and migrations agree."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_downgrade_upgrade_round_trips(migrated_app):
    upgrade(directory=MIGRATIONS)
    assert table_names() >= TABLES
    downgrade(directory=MIGRATIONS, revision="base")
    assert table_names() <= {"alembic_version"}
    upgrade(directory=MIGRATIONS)
    assert table_names() >= TABLES


def test_the_models_and_the_migrations_agree(migrated_app):
    upgrade(directory=MIGRATIONS)
    assert schema_differences() == []


def test_the_migrations_create_every_model_table(migrated_app):
    upgrade(directory=MIGRATIONS)
    assert set(db.metadata.tables) <= table_names()


def check_constraints_of_the_models() -> set[tuple[str, str]]:
    return {
        (table.name, str(constraint.name))
        for table in db.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, sa.CheckConstraint)
    }


def test_every_check_constraint_of_the_models_is_in_the_database(migrated_app):
    # Autogenerate does not compare CHECK constraints (amounts, balances, enums), so compare
    # them by name here.
    upgrade(directory=MIGRATIONS)
    inspector = sa.inspect(db.engine)
    in_database = {
        (table, check["name"])
        for table in db.metadata.tables
        for check in inspector.get_check_constraints(table)
    }
    expected = check_constraints_of_the_models()
    assert ("transactions", "ck_transactions_amount_range") in expected
    assert expected <= in_database


def test_0004_keeps_category_names_that_clash_ignoring_case_apart(migrated_app):
    """Names that were distinct before 0004 ("Food", "food", "FOOD") but fold to one name get
    numbered, so the upgrade never fails on existing data; other users' are untouched. On
    SQLite this also proves that rebuilding `users` (0005) cascades to no one's rows."""
    upgrade(directory=MIGRATIONS, revision="0003")
    db.session.execute(
        sa.text(
            "INSERT INTO users (id, username, username_canonical, password_hash, token_version,"
            " created_at, transaction_count) VALUES"
            " (1, 'ann', 'ann', 'x', 0, CURRENT_TIMESTAMP, 0),"
            " (2, 'bob', 'bob', 'x', 0, CURRENT_TIMESTAMP, 0)"
        )
    )
    db.session.execute(
        sa.text(
            "INSERT INTO categories (id, user_id, name, kind) VALUES"
            " (1, 1, 'Food', 'expense'), (2, 1, 'food', 'expense'), (3, 1, 'FOOD', 'expense'),"
            " (4, 2, 'food', 'expense')"
        )
    )
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    rows = db.session.execute(
        sa.text("SELECT id, name, name_canonical FROM categories ORDER BY id")
    ).all()
    assert [tuple(row) for row in rows] == [
        (1, "Food", "food"),
        (2, "food (2)", "food (2)"),
        (3, "FOOD (3)", "food (3)"),
        (4, "food", "food"),
    ]


def test_0008_backfills_each_transfers_destination_side_and_the_status_balances(migrated_app):
    """Existing transfers (one currency each) get transfer_amount = amount; imported rows are
    cleared, the others pending; cleared and reconciled balances follow, and the ledger check
    passes on the upgraded data."""
    upgrade(directory=MIGRATIONS, revision="0005")
    db.session.execute(
        sa.text(
            "INSERT INTO users (id, username, username_canonical, password_hash, token_version,"
            " created_at, transaction_count) VALUES"
            " (1, 'ann', 'ann', 'x', 0, CURRENT_TIMESTAMP, 3)"
        )
    )
    db.session.execute(
        sa.text(
            "INSERT INTO accounts (id, user_id, name, type, currency, opening_balance, balance,"
            " archived, created_at, updated_at) VALUES"
            " (1, 1, 'A', 'checking', 'USD', 10000, 11500, false, CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP),"
            " (2, 1, 'B', 'savings', 'USD', 0, 2500, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    db.session.execute(
        sa.text(
            "INSERT INTO transactions (user_id, account_id, transfer_account_id, type, amount,"
            " currency, amount_scaled, date, description, import_id, created_at, updated_at)"
            " VALUES"
            " (1, 1, NULL, 'income', 5000, 'USD', 500000, '2026-11-01', '', 'bank-1',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
            " (1, 1, NULL, 'expense', 1000, 'USD', 100000, '2026-11-02', '', NULL,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
            " (1, 1, 2, 'transfer', 2500, 'USD', 250000, '2026-11-03', '', 'bank-2',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
    )
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    rows = db.session.execute(
        sa.text(
            "SELECT type, status, transfer_amount, transfer_currency, transfer_status"
            " FROM transactions ORDER BY id"
        )
    ).all()
    assert [tuple(row) for row in rows] == [
        ("income", "cleared", None, None, None),
        ("expense", "pending", None, None, None),
        ("transfer", "cleared", 2500, "USD", "cleared"),
    ]
    accounts = db.session.execute(
        sa.text("SELECT id, balance, cleared_balance, reconciled_balance FROM accounts ORDER BY id")
    ).all()
    # A: 100.00 + 50.00 (cleared) - 10.00 (pending) - 25.00 (cleared); B: + 25.00 (cleared).
    assert [tuple(row) for row in accounts] == [(1, 11500, 12500, 10000), (2, 2500, 2500, 0)]
    assert ledger.verify() == []
