"""The transaction answers built without marshmallow (app.transactions.rows) are TransactionSchema's
dump, byte for byte: the schema documents them, so any difference would be an undocumented
answer. Every field is covered (splits, tags, the transfer side, statuses, nulls, the recurring
schedule), in currencies of 0, 2, 3 and 4 decimal places; a page reads its splits and tags in
one statement each, whatever its size."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.common import money
from app.extensions import db
from app.transactions import rows
from app.transactions.models import Transaction, TransactionSplit, TransactionTag
from app.transactions.schemas import TransactionSchema

CREATED = datetime(2026, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)


def schema_bytes(obj, many=False) -> bytes:
    return orjson.dumps(TransactionSchema(many=many).dump(obj))


def made(**fields) -> Transaction:
    """A Transaction as the database would hand it back, built in memory."""
    defaults = {
        "id": 7,
        "user_id": 3,
        "account_id": 11,
        "category_id": None,
        "type": "expense",
        "amount": 1234,
        "currency": "USD",
        "amount_scaled": 123400,
        "transfer_account_id": None,
        "transfer_amount": None,
        "transfer_currency": None,
        "status": "pending",
        "transfer_status": None,
        "date": date(2026, 1, 31),
        "description": "",
        "payee": None,
        "import_id": None,
        "recurring_id": None,
        "created_at": CREATED,
        "updated_at": CREATED,
    }
    splits = fields.pop("splits", [])
    tags = fields.pop("tags", [])
    txn = Transaction(**{**defaults, **fields})
    txn.splits = [TransactionSplit(user_id=txn.user_id, **split) for split in splits]
    txn.tag_rows = [TransactionTag(user_id=txn.user_id, tag=tag) for tag in tags]
    return txn


IN_MEMORY = {
    "a plain USD expense, nulls everywhere": {},
    "JPY (no decimals)": {"currency": "JPY", "amount": 1200},
    "BHD (three decimals)": {"currency": "BHD", "amount": 1250},
    "CLF (four decimals)": {"currency": "CLF", "amount": 5},
    "one minor unit": {"amount": 1},
    "the largest amount": {"amount": money.MAX_AMOUNT_MINOR - 1},
    "every optional field set": {
        "type": "income",
        "category_id": 5,
        "description": "Salary — Jänner \u2603",
        "payee": 'ACME "Corp"',
        "status": "cleared",
        "recurring_id": 9,
        "updated_at": datetime(2026, 2, 1, tzinfo=UTC),
    },
    "splits and tags": {
        "amount": 3000,
        "splits": [
            {"id": 1, "category_id": 4, "amount": 2001, "note": "Bread"},
            {"id": 2, "category_id": None, "amount": 999, "note": ""},
        ],
        "tags": ["food", "weekly"],
    },
    "a same-currency transfer": {
        "type": "transfer",
        "transfer_account_id": 12,
        "transfer_amount": 1234,
        "transfer_currency": "USD",
        "transfer_status": "reconciled",
        "status": "reconciled",
    },
    "a cross-currency transfer, USD to JPY": {
        "type": "transfer",
        "transfer_account_id": 12,
        "transfer_amount": 1849,
        "transfer_currency": "JPY",
        "transfer_status": "pending",
    },
    "a cross-currency transfer, BHD to CLF": {
        "type": "transfer",
        "currency": "BHD",
        "amount": 1,
        "transfer_account_id": 12,
        "transfer_amount": 333,
        "transfer_currency": "CLF",
        "transfer_status": "cleared",
    },
    "equal minor units in two currencies": {
        "type": "transfer",
        "transfer_account_id": 12,
        "transfer_amount": 1234,
        "transfer_currency": "EUR",
        "transfer_status": "pending",
    },
}


@pytest.mark.parametrize("fields", IN_MEMORY.values(), ids=IN_MEMORY.keys())
def test_a_transaction_reads_as_the_schema_dumps_it(fields):
    txn = made(**fields)
    assert orjson.dumps(rows.of(txn)) == schema_bytes(txn)


def test_every_field_of_the_schema_is_built():
    assert list(rows.of(made())) == list(TransactionSchema().fields)


@pytest.mark.parametrize("currency", ["JPY", "USD", "BHD", "CLF"])
@pytest.mark.parametrize("minor", [0, 1, 5, 99, 100, 101, 12345, 10**14 - 1, 9 * 10**17])
def test_amounts_format_as_their_decimal_value(currency, minor):
    places = money.digits(currency)
    for value in (minor, -minor):
        assert money.format_minor(value, currency) == f"{Decimal(value).scaleb(-places):.{places}f}"


# --- through the API, from the database ------------------------------------------------------


@pytest.fixture
def ledger_of_everything(user):
    """Transactions of every kind, as the API records them."""
    usd = user.account(name="Checking", opening_balance="100.00")
    jpy = user.account(name="Yen", currency="JPY", opening_balance="10000")
    bhd = user.account(name="Dinar", currency="BHD", opening_balance="5.000")
    clf = user.account(name="UF", currency="CLF", opening_balance="1.0000")
    food, home = user.category(name="Food"), user.category(name="Home")
    user.transaction(
        usd,
        "30.00",
        splits=[
            {"category_id": food["id"], "amount": "20.01", "note": "Bread"},
            {"category_id": None, "amount": "9.99"},
        ],
        tags=["weekly", "food"],
        payee="Corner Grocery",
    )
    user.transaction(jpy, "1200", type="income", category_id=home["id"], status="cleared")
    user.transaction(bhd, "1.250", description="Three decimals")
    user.transaction(clf, "0.0005", tags=["tiny"])
    user.transaction(
        usd, "12.34", type="transfer", transfer_account_id=jpy["id"], transfer_amount="1849"
    )
    user.transaction(
        bhd,
        "0.001",
        type="transfer",
        transfer_account_id=clf["id"],
        transfer_amount="0.0333",
        transfer_status="cleared",
    )
    second = user.account(name="Savings")
    user.transaction(
        usd, "5.00", type="transfer", transfer_account_id=second["id"], status="cleared"
    )
    reconciled = user.post(
        user.url("accounts", jpy["id"]) + "/reconcile",
        json={"statement_date": date.today().isoformat(), "closing_balance": "11200"},
    )
    assert reconciled.status_code == 200, reconciled.json
    return user


def orm_transactions(app, user_id):
    with app.app_context():
        found = db.session.scalars(
            sa.select(Transaction)
            .where(Transaction.user_id == user_id)
            .options(selectinload(Transaction.splits), selectinload(Transaction.tag_rows))
            .order_by(Transaction.date.desc(), Transaction.id.desc())
        ).all()
        dumped = [schema_bytes(txn) for txn in found]
        db.session.remove()
    return found, dumped


def test_the_list_is_the_schemas_dump_of_every_row(app, ledger_of_everything):
    user = ledger_of_everything
    found, dumped = orm_transactions(app, user.id)
    assert {t.status for t in found} >= {"pending", "cleared", "reconciled"}
    response = user.get(user.url("transactions"))
    assert response.status_code == 200
    assert response.get_data() == b"[" + b",".join(dumped) + b"]"
    assert response.headers["X-Total-Count"] == str(len(found))


def test_one_transaction_is_the_schemas_dump_with_its_etag(app, ledger_of_everything):
    user = ledger_of_everything
    found, dumped = orm_transactions(app, user.id)
    for txn, body in zip(found, dumped, strict=True):
        response = user.get(user.url("transactions", txn.id))
        assert response.status_code == 200
        assert response.get_data() == body
        # The ETag If-Match is checked against (the schema's dump of the locked row).
        stale = user.client.patch(
            user.url("transactions", txn.id),
            json={"description": "changed"},
            headers={**user.headers, "If-Match": '"not-its-etag"'},
        )
        assert stale.status_code == 412
        fresh = user.client.patch(
            user.url("transactions", txn.id),
            json={"description": "changed"},
            headers={**user.headers, "If-Match": response.headers["ETag"]},
        )
        assert fresh.status_code == 200, fresh.json


def test_a_write_answers_the_schemas_dump_of_what_it_wrote(app, ledger_of_everything):
    user = ledger_of_everything
    account = user.account(name="Another")
    created = user.post(
        user.url("transactions"),
        json={"account_id": account["id"], "type": "income", "amount": "3.50", "tags": ["x"]},
    )
    changed = user.patch(user.url("transactions", created.json["id"]), json={"payee": "Someone"})
    found, dumped = orm_transactions(app, user.id)
    by_id = dict(zip((t.id for t in found), dumped, strict=True))
    assert changed.get_data() == by_id[created.json["id"]]
    assert orjson.loads(created.get_data()) == {
        **orjson.loads(by_id[created.json["id"]]),
        "payee": None,
        "updated_at": created.json["updated_at"],
    }


# --- statements --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 5, 40])
def test_a_page_reads_its_splits_and_tags_in_one_statement_each(user, account, statements, size):
    food = user.category(name="Food")
    for n in range(size):
        user.transaction(
            account,
            "2.00",
            type="income",
            splits=[{"category_id": food["id"], "amount": "1.50"}, {"amount": "0.50"}],
            tags=[f"tag{n}", "all"],
        )
    statements.clear()
    response = user.get(user.url("transactions"))
    assert response.status_code == 200
    assert len(response.json) == size
    assert all(len(t["splits"]) == 2 and len(t["tags"]) == 2 for t in response.json)
    # The caller (with the token's revocation check), the page, its splits, its tags.
    assert len(statements) == 4, statements


def test_one_transaction_reads_only_the_parts_it_has(user, account, statements):
    plain = user.transaction(account)
    tagged = user.transaction(account, tags=["a"])
    statements.clear()
    assert user.get(user.url("transactions", plain["id"])).status_code == 200
    # The caller, the row (which says it has no splits and no tags).
    assert len(statements) == 2, statements
    statements.clear()
    assert user.get(user.url("transactions", tagged["id"])).json["tags"] == ["a"]
    assert len(statements) == 3, statements  # and its tags


def test_a_page_without_splits_or_tags_is_two_statements(user, account, statements):
    for _ in range(5):
        user.transaction(account)
    statements.clear()
    response = user.get(user.url("transactions"))
    assert [t["splits"] for t in response.json] == [[]] * 5
    assert len(statements) == 2, statements


def test_a_decimal_count_of_minor_units_formats_too():
    # SQL sums (ledger verify, reports) come back as Decimal.
    assert money.format_minor(Decimal("149620"), "EUR") == "1496.20"
    assert money.format_minor(Decimal("-5"), "BHD") == "-0.005"


# The writes: the ledger's locks and nothing more. The caller (and the token's revocation) is
# the first statement of each.


def rollup_text(statement: str) -> bool:
    """The ledger's monthly rollups (app.ledger.rollups), moved in one text per flush."""
    return statement.startswith("INSERT INTO month_totals") or statement.startswith(
        "INSERT INTO flow_months"
    )


def follows_posting(statement: str, *, rollups: bool = True) -> bool:
    """The ledger's one text after a posting's rows (ledger.follow_posting): the balance
    moves, the rollups (if any) and the count, one round trip."""
    parts = [part.split()[:3] for part in statement.split(";")]
    return (
        parts[0] == ["UPDATE", "accounts", "SET"]
        and parts[-1] == ["UPDATE", "users", "SET"]
        and any(rollup_text(part.strip()) for part in statement.split(";")) == rollups
    )


def test_a_create_is_four_statements(user, account, statements):
    statements.clear()
    response = user.post(
        user.url("transactions"),
        json={"account_id": account["id"], "type": "expense", "amount": "1.00"},
    )
    assert response.status_code == 201
    assert response.json["splits"] == [] and response.json["tags"] == []
    # Lock the account, insert, then one text: move its balance, add it to the rollups
    # (computed in Python: nothing read back), count.
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT", "INSERT", "UPDATE"]
    assert statements[2].startswith("INSERT INTO transactions")
    assert follows_posting(statements[3])
    assert user.balance(account) == "99.00"


def test_a_delete_is_three_statements(user, account, statements):
    txn = user.transaction(account)
    statements.clear()
    assert user.delete(user.url("transactions", txn["id"])).status_code == 204
    # Delete the row (which locks it; it has no splits or tags), then one text: move the
    # balance back, take it out of the rollups (computed from the row returned), count.
    assert [s.split()[0] for s in statements] == ["SELECT", "DELETE", "UPDATE"]
    assert follows_posting(statements[2])
    assert user.balance(account) == "100.00"


def test_a_delete_with_tags_locks_first(user, account, statements):
    txn = user.transaction(account, tags=["kept-until-deleted"])
    statements.clear()
    assert user.delete(user.url("transactions", txn["id"])).status_code == 204
    # The delete of a row without parts finds none; lock the row, move the balance back and
    # count (the account's lock before any rollup row), take it out of the rollups (by SQL,
    # tags included), delete (its tags go with it).
    assert [s.split()[0] for s in statements] == [
        "SELECT",
        "DELETE",
        "SELECT",
        "UPDATE",
        "INSERT",
        "DELETE",
    ]
    assert follows_posting(statements[3], rollups=False)
    assert rollup_text(statements[4])
    assert rows_of(user, "transaction_tags") == 0


def test_moving_a_transaction_is_five_statements(user, account, statements):
    other = user.account(name="Savings")
    txn = user.transaction(account)
    statements.clear()
    response = user.patch(user.url("transactions", txn["id"]), json={"account_id": other["id"]})
    assert response.status_code == 200
    assert response.json["splits"] == [] and response.json["tags"] == []
    # The caller, lock the row (which says it has no splits and no tags: none to read for the
    # answer, and it is changed by Core), lock both accounts, move both balances and the
    # rollups (out and in: one text), change the row (reading back its updated_at).
    assert len(statements) == 5, statements
    assert [s.count("UPDATE accounts") for s in statements] == [0, 0, 0, 2, 0]
    assert [s.count("INSERT INTO month_totals") for s in statements] == [0, 0, 0, 1, 0]
    assert statements[-1].startswith("UPDATE transactions SET account_id=")
    assert (user.balance(account), user.balance(other)) == ("100.00", "-10.00")


def test_moving_a_tagged_transaction_reads_its_tags_for_the_rollups(user, account, statements):
    other = user.account(name="Savings")
    txn = user.transaction(account, tags=["a"])
    statements.clear()
    response = user.patch(user.url("transactions", txn["id"]), json={"account_id": other["id"]})
    assert response.status_code == 200
    assert response.json["tags"] == ["a"]
    # The row, locked, says it has tags: it is read again as the session's Transaction, whose
    # flush takes its rollups out before the change and puts them back after it by SQL (which
    # reads the tags); its tags are read for the answer.
    assert len(statements) == 9, statements
    assert sum(rollup_text(s) for s in statements) == 2


def test_changing_a_transactions_tags_locks_its_row_once(user, account, statements):
    txn = user.transaction(account)
    statements.clear()
    response = user.patch(user.url("transactions", txn["id"]), json={"tags": ["a"]})
    assert response.status_code == 200
    assert response.json["tags"] == ["a"]
    # Its parts change: read as the session's Transaction at once, not first by Core.
    assert sum("FOR UPDATE OF transactions" in s for s in statements) == 1, statements


def rows_of(user, table: str) -> int:
    app = user.client.application
    with app.app_context():
        count = db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
        db.session.remove()
    return count
