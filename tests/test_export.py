"""Transaction export: CSV (RFC 4180) and JSON, the list's filters, streaming, and the CSV read
back by the import exactly."""

from __future__ import annotations

import csv
import io
import json

import sqlalchemy as sa

from app import ledger
from app.extensions import db
from app.transactions import export as export_module
from tests.test_imports import listed, upload

TRICKY = [
    ("income", "2500.00", "2025-01-31", "Salary, January", 'ACME "Widgets" Ltd'),
    ("expense", "12.34", "2025-02-01", "Café Größenwahn", None),
    ("expense", "0.01", "2025-02-01", "Path C:\\temp\\x; a \\N lookalike", "Ünïcødé ☕"),
    ("expense", "0.01", "2025-02-01", "Path C:\\temp\\x; a \\N lookalike", "Ünïcødé ☕"),
    ("income", "99999.99", "2025-03-15", "", "Nobody"),
]


def export(user, **query):
    return user.get(user.url("transactions") + "export", query_string=query)


def make_history(user, account):
    for type_, amount, day, description, payee in TRICKY:
        user.transaction(
            account, amount=amount, type=type_, date=day, description=description, payee=payee
        )


def comparable(rows: list[dict]) -> list[tuple]:
    return sorted(
        (row["date"], row["type"], row["amount"], row["description"], row["payee"]) for row in rows
    )


def test_csv_is_rfc_4180(user):
    account = user.account(opening_balance="0.00")
    make_history(user, account)
    response = export(user)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data(as_text=True)
    assert body.startswith("id,date,type,amount,currency,")
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    assert '"ACME ""Widgets"" Ltd"' in body  # quotes doubled inside a quoted field
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert len(rows) == len(TRICKY)
    assert [row["date"] for row in rows] == sorted(row["date"] for row in rows)  # oldest first
    assert rows[0]["amount"] == "2500.00" and rows[1]["amount"] == "-12.34"


def test_csv_carries_both_sides_of_a_transfer_and_their_statuses(user):
    euros = user.account(name="Euros", currency="EUR", opening_balance="100.00")
    dollars = user.account(name="Dollars", currency="USD")
    body = {
        "type": "transfer",
        "transfer_account_id": dollars["id"],
        "transfer_amount": "54.26",
        "status": "cleared",
        "transfer_status": "pending",
    }
    user.transaction(euros, amount="50.00", **body)
    (row,) = csv.DictReader(io.StringIO(export(user).get_data(as_text=True), newline=""))
    assert (row["amount"], row["currency"]) == ("-50.00", "EUR")
    assert (row["transfer_amount"], row["transfer_currency"]) == ("54.26", "USD")
    assert (row["status"], row["transfer_status"]) == ("cleared", "pending")


def test_csv_round_trips_through_the_importer(user):
    source = user.account(name="Source", opening_balance="0.00")
    make_history(user, source)
    body = export(user, account_id=source["id"]).get_data()
    target = user.account(name="Target", opening_balance="0.00")
    response = upload(user, target, body, "transactions.csv")
    assert response.status_code == 200, response.json
    assert (response.json["added"], response.json["duplicates"]) == (len(TRICKY), 0)
    assert comparable(listed(user, account_id=target["id"])) == comparable(
        listed(user, account_id=source["id"])
    )
    assert user.balance(target) == user.balance(source)
    # What came in with an import id keeps it: exporting again and importing adds nothing.
    again = upload(user, target, export(user, account_id=target["id"]).get_data())
    assert (again.json["added"], again.json["duplicates"]) == (0, len(TRICKY))


def test_imported_ids_survive_the_round_trip(user):
    bank = user.account(name="Bank", opening_balance="0.00")
    data = b"Date,Description,Amount,Import ID\n2025-01-02,Coffee,-3.00,BANK-1\n"
    assert upload(user, bank, data).json["added"] == 1
    body = export(user).get_data(as_text=True)
    assert "BANK-1" in body
    copy = user.account(name="Copy", opening_balance="0.00")
    assert upload(user, copy, body.encode()).json["added"] == 1
    assert upload(user, bank, body.encode()).json["duplicates"] == 1


def test_json_export_with_the_list_filters(user):
    account = user.account(opening_balance="0.00")
    make_history(user, account)
    response = export(user, format="json", transaction_type="income", order="desc")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    rows = json.loads(response.get_data())
    assert [row["amount"] for row in rows] == ["99999.99", "2500.00"]
    assert all(row["type"] == "income" for row in rows)
    assert export(user, format="json", q="nothing matches").get_json() == []


def test_export_refuses_paging_and_unknown_parameters(user, other_user):
    assert export(user, limit=10).status_code == 422
    assert export(user, format="xml").status_code == 422
    response = user.get(f"/users/{other_user.id}/transactions/export")
    assert response.status_code == 403


def test_export_streams_in_batches(app, user, monkeypatch):
    monkeypatch.setattr(export_module, "SQL_BATCH", 2000)
    account = user.account(opening_balance="0.00")
    lines = ["Date,Description,Amount"] + [f"2025-01-01,Row {i},-1.00" for i in range(4500)]
    assert upload(user, account, "\n".join(lines).encode()).json["added"] == 4500
    response = export(user)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 3  # the header and the rows come a batch at a time, not as one body
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 4501


#: Descriptions that test the quoting: delimiter, quotes, line breaks (which the API refuses
#: but older data or a direct load may hold), Unicode, a COPY-like marker, empty.
AWKWARD = [
    "plain",
    "comma, inside",
    'quote " inside',
    '"quoted"',
    "line\nbreak",
    "carriage\rreturn",
    "both\r\nends",
    "Ünïcødé ☕ 𝄞 中文",
    "\\.",
    "",
    " leading and trailing ",
    "semi;colon\ttab",
    "'single'",
]


def test_postgresql_and_python_write_the_same_csv_bytes(app, user):
    """The two CSV paths (PostgreSQL formats the lines; Python's csv module does elsewhere)
    write the same bytes: currencies with 0, 2, 3 and 4 digits, negative amounts, cross-currency
    transfers, NULLs, and descriptions, payees and import ids that need quoting."""
    accounts = {
        currency: user.account(name=f"In {currency}", currency=currency)
        for currency in ("JPY", "USD", "BHD", "CLF", "EUR")
    }
    amounts = {"JPY": "1200", "USD": "12.05", "BHD": "0.005", "CLF": "3.0001", "EUR": "1000000.10"}
    for currency, account in accounts.items():
        user.transaction(account, amount=amounts[currency], type="income")
        user.transaction(account, amount=amounts[currency], payee="Payee, Inc.")
    user.transaction(accounts["USD"], amount="0.10", date="2199-12-31")
    # The category filter's two shapes (a plain filter, a union with split parts) too.
    parted = user.category(name="Parted")
    whole = user.category(name="Whole")
    user.transaction(accounts["EUR"], amount="2.00", category_id=whole["id"])
    user.transaction(
        accounts["EUR"],
        amount="3.00",
        splits=[{"category_id": parted["id"], "amount": "1.00"}, {"amount": "2.00"}],
    )
    user.transaction(accounts["EUR"], amount="4.00", category_id=parted["id"])
    user.transaction(
        accounts["USD"],
        amount="10.00",
        type="transfer",
        transfer_account_id=accounts["JPY"]["id"],
        transfer_amount="1523",
    )
    user.transaction(
        accounts["EUR"],
        amount="0.01",
        type="transfer",
        transfer_account_id=accounts["BHD"]["id"],
        transfer_amount="0.004",
        status="cleared",
    )
    with app.app_context():
        ids = db.session.scalars(
            sa.text("SELECT id FROM transactions WHERE user_id = :u ORDER BY id"), {"u": user.id}
        ).all()
        # Free text the API would refuse (line breaks): written directly, as a restore of old
        # data or a bulk load might (inside ledger.rewriting: the payees are in its rollups).
        with ledger.rewriting(user.id):
            for number, (txn_id, text) in enumerate(zip(ids, AWKWARD * 2, strict=False)):
                db.session.execute(
                    sa.text(
                        "UPDATE transactions SET description = :d, payee = :p, import_id = :i "
                        "WHERE id = :id"
                    ),
                    {
                        "d": text,
                        "p": None if number % 3 == 0 else AWKWARD[-1 - number % len(AWKWARD)],
                        "i": None if number % 2 else f'id,{number}"x"',
                        "id": txn_id,
                    },
                )
        db.session.commit()
        for args in (
            {},
            {"sort_by": "amount", "order": "desc"},
            {"transaction_type": "expense"},
            {"category_id": whole["id"]},
            {"category_id": parted["id"], "sort_by": "amount"},
        ):
            query = {"sort_by": "date", "order": "asc", **args}
            sql = "".join(export_module.csv_lines_sql(user.id, query))
            python = "".join(export_module.csv_lines_python(user.id, query))
            db.session.rollback()
            assert sql == python, args
            # The JSON export likewise: PostgreSQL's objects are orjson's, byte for byte.
            sql_json = b"".join(export_module.json_chunks_sql(user.id, query))
            python_json = b"".join(export_module.json_chunks_python(user.id, query))
            db.session.rollback()
            assert sql_json == python_json, args
            csv_rows = len(list(csv.reader(io.StringIO(sql, newline="")))) - 1
            assert csv_rows == len(json.loads(sql_json))
            if not args:
                assert csv_rows == len(ids)
            if "category_id" in args:
                # Whole: its one transaction; parted: the split one and the other.
                assert csv_rows == (1 if args["category_id"] == whole["id"] else 2)
    # What the route serves (on PostgreSQL, the SQL path) is the Python path's bytes too.
    body = export(user, sort_by="amount", order="desc").get_data(as_text=True)
    with app.app_context():
        query = {"sort_by": "amount", "order": "desc"}
        assert body == "".join(export_module.csv_lines_python(user.id, query))
        db.session.rollback()
    parsed = list(csv.reader(io.StringIO(body, newline="")))
    assert parsed[0] == list(export_module.COLUMNS)
    by_amount = {(row[3], row[4]) for row in parsed[1:]}
    for expected in (
        ("1200", "JPY"),
        ("-1200", "JPY"),
        ("-0.005", "BHD"),
        ("3.0001", "CLF"),
        ("1000000.10", "EUR"),
        ("-10.00", "USD"),
        ("-0.01", "EUR"),
    ):
        assert expected in by_amount, expected
    transfers = {row[11]: row[12] for row in parsed[1:] if row[2] == "transfer"}
    assert transfers == {"1523": "JPY", "0.004": "BHD"}
    assert {row[8] for row in parsed[1:]} >= set(AWKWARD)
