"""Bank file import: the samples in tests/data (copied from the issue's), detection and
overrides, duplicates, all-or-nothing, limits and garbage files, concurrency."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.imports import csvfile

DATA = Path(__file__).parent / "data"


def upload(user, account, data: bytes, filename: str = "statement.csv", **query):
    url = f"/users/{user.id}/accounts/{account['id']}/import"
    return user.client.post(
        url,
        query_string=query,
        data={"file": (io.BytesIO(data), filename)},
        headers=user.headers,
        content_type="multipart/form-data",
    )


def listed(user, **query) -> list[dict]:
    response = user.get(user.url("transactions"), query_string={"limit": 1000, **query})
    assert response.status_code == 200, response.json
    return response.json


def sample(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_imported_transactions_are_cleared(user):
    account = user.account(name="Checking", opening_balance="10.00")
    assert upload(user, account, sample("checking-us.csv"), "checking-us.csv").status_code == 200
    assert {t["status"] for t in listed(user)} == {"cleared"}
    shown = user.get(user.url("accounts", account["id"])).json
    assert shown["cleared_balance"] == shown["balance"] != "10.00"


def test_us_checking_csv(user):
    account = user.account(name="Checking", opening_balance="0.00")
    response = upload(user, account, sample("checking-us.csv"), "checking-us.csv")
    assert response.status_code == 200, response.json
    assert response.json["added"] == 480
    assert response.json["duplicates"] == 0
    assert response.json["errors"] == []
    assert response.json["detected"]["delimiter"] == ","
    assert response.json["detected"]["date_format"] == "MM/DD/YYYY"
    assert user.balance(account) == "30015.30"  # the sum of the file's signed amounts
    rows = listed(user, sort_by="date", order="asc")
    assert len(rows) == 480
    first = rows[0]
    assert (first["date"], first["type"], first["amount"], first["description"]) == (
        "2025-01-01",
        "expense",
        "11.91",
        "Whole Foods Market",
    )
    descriptions = {row["description"] for row in rows}
    assert 'Dr. Lee, "Family" Dental' in descriptions  # quoted, with commas and quotes
    assert "Venmo, Inc." in descriptions
    assert rows[-1]["date"] == "2025-12-31"

    again = upload(user, account, sample("checking-us.csv"), "checking-us.csv")
    assert again.status_code == 200
    assert (again.json["added"], again.json["duplicates"]) == (0, 480)
    assert user.balance(account) == "30015.30"


def test_german_giro_csv(user):
    account = user.account(name="Giro", currency="EUR")
    response = upload(user, account, sample("giro-de.csv"), "giro-de.csv")
    assert response.status_code == 200, response.json
    assert (response.json["added"], response.json["duplicates"]) == (120, 0)
    detected = response.json["detected"]
    assert detected["encoding"] == "utf-8"
    assert detected["delimiter"] == ";"
    assert detected["date_format"] == "DD.MM.YYYY"
    assert (detected["decimal_separator"], detected["thousands_separator"]) == (",", ".")
    assert user.balance(account) == "10127.95"
    salary = listed(user, q="Gehalt", sort_by="date", order="asc")
    assert salary[0]["date"] == "2025-03-08"
    assert (salary[0]["type"], salary[0]["amount"]) == ("income", "2845.10")
    assert salary[0]["description"] == "Gehalt März"
    assert salary[0]["payee"] == "Arbeitgeber AG"
    assert {row["payee"] for row in listed(user, q="Müller")} == {"Bäckerei Müller"}


def test_windows_1252_and_lf(user):
    account = user.account(currency="EUR")
    text = "Datum;Empfänger;Betrag\n02.01.2025;Café Größenwahn;-1.234,50\n"
    response = upload(user, account, text.encode("cp1252"))
    assert response.status_code == 200, response.json
    assert response.json["detected"]["encoding"] == "windows-1252"
    row = listed(user)[0]
    assert (row["payee"], row["amount"], row["date"]) == (
        "Café Größenwahn",
        "1234.50",
        "2025-01-02",
    )


@pytest.mark.parametrize(
    "text",
    [
        "a,b\r\nc,d\r\n",
        "a,b\rc,d\re,f",
        "a,b\nc,d\n\n\ne",
        '"x\r\ny",1\r\n"p\rq",2\n',
        "a\u2028b,c\x0bd\x0c\x1ce\x85f\n",
        "",
        "\n",
        "\r\n\r",
        "no line ending",
    ],
)
def test_lines_are_split_as_a_file_opened_with_newline_empty_splits_them(text):
    assert list(csvfile.lines(text)) == list(io.StringIO(text, newline=""))


def test_old_mac_line_endings_and_separators_inside_fields(user):
    account = user.account(currency="EUR")
    text = (
        "Date,Description,Amount\r2025-01-02,Shop\u2028two,-1.00\r"
        '2025-01-03,"Card\rpayment",-2.00\r2025-01-04,Last,3.00'
    )
    response = upload(user, account, text.encode())
    assert response.status_code == 200, response.json
    assert response.json["added"] == 3
    rows = sorted(listed(user), key=lambda row: row["date"])
    assert [row["amount"] for row in rows] == ["1.00", "2.00", "3.00"]
    assert [row["type"] for row in rows] == ["expense", "expense", "income"]


def test_ofx_sgml_statement(app, user):
    account = user.account(name="Card")
    response = upload(user, account, sample("card-statement.ofx"), "card-statement.ofx")
    assert response.status_code == 200, response.json
    assert (response.json["added"], response.json["duplicates"]) == (60, 0)
    assert response.json["detected"]["format"] == "ofx"
    assert user.balance(account) == "-228.73"
    with app.app_context(), db.engine.connect() as conn:
        ids = conn.scalars(sa.text("SELECT import_id FROM transactions ORDER BY import_id")).all()
    assert ids[0] == "2025000000" and len(set(ids)) == 60  # FITID is the import id
    rows = listed(user, sort_by="date", order="asc")
    assert (rows[0]["date"], rows[0]["amount"], rows[0]["payee"]) == (
        "2025-06-02",
        "3.90",
        "WHOLE FOODS MARKET",
    )
    payment = listed(user, q="PAYMENT THANK YOU")[0]
    assert (payment["type"], payment["amount"], payment["date"]) == (
        "income",
        "500.00",
        "2025-07-23",
    )
    again = upload(user, account, sample("card-statement.ofx"), "card-statement.ofx")
    assert (again.json["added"], again.json["duplicates"]) == (0, 60)


OFX2 = """<?xml version="1.0" encoding="UTF-8"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<DTSERVER>20250301</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY>
</STATUS><STMTRS><CURDEF>{currency}</CURDEF><BANKACCTFROM><BANKID>1</BANKID><ACCTID>2</ACCTID>
<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM><BANKTRANLIST><DTSTART>20250201</DTSTART>
<DTEND>20250301</DTEND>
<STMTTRN><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20250228230000[-8:PST]</DTPOSTED>
<TRNAMT>-12.50</TRNAMT><FITID>A1</FITID><NAME>Corner Cafe</NAME><MEMO>Late coffee</MEMO></STMTTRN>
<STMTTRN><TRNTYPE>CREDIT</TRNTYPE><DTPOSTED>20250215</DTPOSTED>
<TRNAMT>100.00</TRNAMT><FITID>A2</FITID><NAME>Refund</NAME></STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1</BALAMT><DTASOF>20250301</DTASOF></LEDGERBAL></STMTRS>
</STMTTRNRS></BANKMSGSRSV1></OFX>
"""


def test_ofx_xml_keeps_the_calendar_date_in_its_offset(user):
    account = user.account(opening_balance="0.00")
    response = upload(user, account, OFX2.format(currency="USD").encode(), "bank.qfx")
    assert response.status_code == 200, response.json
    assert response.json["added"] == 2
    late = listed(user, q="Late coffee")[0]
    assert late["date"] == "2025-02-28"  # 23:00 PST, though 2025-03-01 in UTC
    assert (late["payee"], late["amount"], late["type"]) == ("Corner Cafe", "12.50", "expense")
    assert user.balance(account) == "87.50"


def test_ofx_in_another_currency_is_refused(user):
    account = user.account(currency="EUR")
    response = upload(user, account, OFX2.format(currency="USD").encode(), "bank.ofx")
    assert response.status_code == 422
    assert "USD" in response.json["message"] and "EUR" in response.json["message"]
    assert listed(user) == []


def test_broken_file_writes_nothing(user):
    account = user.account(opening_balance="5.00")
    response = upload(user, account, sample("broken-amounts.csv"))
    assert response.status_code == 422, response.json
    rows = response.json["errors"]["rows"]
    assert [row["row"] for row in rows] == [2, 3, 4]
    assert "twelve" in rows[0]["message"]
    assert "13/45/2025" in rows[1]["message"]
    assert "quote" in rows[2]["message"].lower() or "unexpected end" in rows[2]["message"]
    assert response.json["message"].startswith("Row 2:")
    assert listed(user) == []
    assert user.balance(account) == "5.00"


def test_skip_invalid_imports_the_good_rows(user):
    account = user.account(opening_balance="5.00")
    response = upload(user, account, sample("broken-amounts.csv"), skip_invalid="true")
    assert response.status_code == 200, response.json
    assert response.json["added"] == 1
    assert [error["row"] for error in response.json["errors"]] == [2, 3, 4]
    assert user.balance(account) == "9.50"


def test_dry_run_answers_the_same_and_writes_nothing(user):
    account = user.account(opening_balance="0.00")
    dry = upload(user, account, sample("checking-us.csv"), dry_run="true")
    assert dry.status_code == 200, dry.json
    assert listed(user) == []
    assert user.balance(account) == "0.00"
    real = upload(user, account, sample("checking-us.csv"))
    assert dry.json == real.json
    dry_again = upload(user, account, sample("checking-us.csv"), dry_run="true")
    assert (dry_again.json["added"], dry_again.json["duplicates"]) == (0, 480)


def test_identical_rows_are_two_transactions_and_overlap_adds_only_new(user):
    account = user.account(opening_balance="0.00")
    first = b"Date,Description,Amount\n2025-01-02,Coffee,-3.00\n2025-01-02,Coffee,-3.00\n"
    assert upload(user, account, first).json["added"] == 2
    overlap = first + b"2025-01-03,Coffee,-3.00\n2025-01-02,Coffee,-3.00\n"
    response = upload(user, account, overlap)
    assert (response.json["added"], response.json["duplicates"]) == (2, 2)
    assert user.balance(account) == "-12.00"


def test_overrides_debit_credit_and_named_columns(user):
    account = user.account(opening_balance="0.00")
    text = (
        "When|What|Who|Out|In\r\n"
        "2025/31/01|Rent|Landlord|1'200.00|\r\n"
        "2025/01/02|Pay|Employer||2'500.50\r\n"
    )
    response = upload(
        user,
        account,
        text.encode(),
        delimiter="|",
        date_format="YYYY/DD/MM",
        thousands_separator="'",
        decimal_separator=".",
        date_column="When",
        description_column="What",
        payee_column="Who",
        debit_column="Out",
        credit_column="In",
    )
    assert response.status_code == 200, response.json
    assert user.balance(account) == "1300.50"
    rent = listed(user, q="Rent")[0]
    assert (rent["date"], rent["type"], rent["amount"], rent["payee"]) == (
        "2025-01-31",
        "expense",
        "1200.00",
        "Landlord",
    )


def test_a_missing_named_column_is_a_422(user):
    account = user.account()
    response = upload(user, account, b"Date,Amount\n2025-01-01,1.00\n", amount_column="Betrag")
    assert response.status_code == 422
    assert "Betrag" in response.json["message"]


def test_too_many_decimals_for_the_currency_is_a_row_error(user):
    account = user.account(currency="JPY")
    response = upload(user, account, b"Date,Amount\n2025-01-01,100\n2025-01-02,1.5\n")
    assert response.status_code == 422
    assert response.json["errors"]["rows"][0]["row"] == 2


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (b"", "empty.csv", "empty"),
        (b"   \r\n", "blank.csv", "empty"),
        (bytes(range(256)) * 8, "random.bin", "binary"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "statement.pdf", "PDF"),
        (sample("card-statement.ofx")[:2500], "cut.ofx", "incomplete"),
        (b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BROKEN></OFX>", "bad.ofx", "OFX"),
        (b"Name,Colour\nBob,red\n", "other.csv", "date column"),
        (b"Date,Payee\n2025-01-01,Bob\n", "noamount.csv", "amount column"),
    ],
)
def test_garbage_is_a_clear_422(user, data, filename, words):
    account = user.account()
    response = upload(user, account, data, filename)
    assert response.status_code == 422, response.json
    assert words.lower() in response.json["message"].lower()
    assert listed(user) == []


def test_wrong_declared_encoding_is_a_422(user):
    account = user.account()
    data = "Date,Description,Amount\n2025-01-01,Café,-1.00\n".encode("cp1252")
    response = upload(user, account, data, encoding="utf-8")
    assert response.status_code == 422
    assert "utf-8" in response.json["message"]


def test_upload_larger_than_its_limit_is_a_413_and_json_keeps_its_own(app, user):
    account = user.account()
    limit = app.config["MAX_UPLOAD_SIZE"]
    body = b"Date,Description,Amount\n" + b"2025-01-01,x,1.00\n" * 200_000  # > 1 MiB, < limit
    assert app.config["MAX_CONTENT_LENGTH"] < len(body) < limit
    assert upload(user, account, body, dry_run="true").status_code == 200
    app.config["MAX_UPLOAD_SIZE"] = len(body) - 1
    try:
        response = upload(user, account, body)
    finally:
        app.config["MAX_UPLOAD_SIZE"] = limit
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert listed(user) == []


def test_more_rows_than_the_limit_is_a_413(app, user):
    account = user.account()
    app.config["IMPORT_MAX_ROWS"] = 3
    try:
        response = upload(user, account, b"Date,Amount\n" + b"2025-01-01,1.00\n" * 4)
    finally:
        app.config["IMPORT_MAX_ROWS"] = 200_000
    assert response.status_code == 413
    assert "3 rows" in response.json["message"]


def test_archived_account_is_a_422_and_another_users_a_404(user, other_user):
    archived = user.account(archived=True)
    data = b"Date,Amount\n2025-01-01,1.00\n"
    assert upload(user, archived, data).status_code == 422
    theirs = other_user.account()
    url = f"/users/{user.id}/accounts/{theirs['id']}/import"
    response = user.client.post(
        url,
        data={"file": (io.BytesIO(data), "x.csv")},
        headers=user.headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 404


def test_json_body_is_a_415_and_missing_file_a_422(user):
    account = user.account()
    url = f"/users/{user.id}/accounts/{account['id']}/import"
    assert user.post(url, json={"file": "x"}).status_code == 415
    response = user.client.post(
        url, data={"other": "x"}, headers=user.headers, content_type="multipart/form-data"
    )
    assert response.status_code == 422


def test_concurrent_imports_of_one_file_add_each_row_once(app, user):
    account = user.account(opening_balance="0.00")
    data = sample("checking-us.csv")
    results: list[int] = []

    def run():
        client = app.test_client()
        response = client.post(
            f"/users/{user.id}/accounts/{account['id']}/import",
            data={"file": (io.BytesIO(data), "c.csv")},
            headers=user.headers,
            content_type="multipart/form-data",
        )
        results.append((response.status_code, response.json["added"]))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [(200, 0), (200, 0), (200, 480)]
    assert user.balance(account) == "30015.30"


def test_a_large_import_refreshes_the_planner_statistics(app, user):
    account = user.account()
    with app.app_context():
        db.session.execute(sa.text("ANALYZE transactions"))  # 0 rows, as the planner knows
        db.session.commit()
    app.config["IMPORT_ANALYZE_ROWS"] = 5
    try:
        small = upload(user, account, b"Date,Amount\n" + b"2025-01-01,1.00\n" * 4)
        with app.app_context():
            after_small = db.session.scalar(
                sa.text("SELECT reltuples FROM pg_class WHERE relname = 'transactions'")
            )
        large = upload(user, account, b"Date,Amount\n" + b"2025-01-02,1.00\n" * 6)
        with app.app_context():
            after_large = db.session.scalar(
                sa.text("SELECT reltuples FROM pg_class WHERE relname = 'transactions'")
            )
    finally:
        app.config["IMPORT_ANALYZE_ROWS"] = 10_000
    assert (small.json["added"], large.json["added"]) == (4, 6)
    assert after_small <= 0  # below the threshold: no ANALYZE
    assert after_large == 10  # the imported rows counted, in the import's own transaction


def test_a_duplicate_import_id_reaching_the_database_is_a_409(app, user):
    """The unique constraint behind the dedup: the bulk path (COPY) reports it like any other
    statement, so app.errors answers a 409, never a 500."""
    from datetime import date
    from decimal import Decimal

    from app import ledger
    from app.errors import handle_integrity_error

    account = user.account()
    row = {
        "type": "expense",
        "account_id": account["id"],
        "transfer_account_id": None,
        "category_id": None,
        "amount": Decimal("1.00"),
        "date": date(2025, 1, 1),
        "description": "x",
        "payee": None,
        "import_id": "same",
    }
    with app.test_request_context():
        with pytest.raises(sa.exc.IntegrityError) as caught:
            ledger.post_rows(user.id, [row, dict(row)])
        body, status, _ = handle_integrity_error(caught.value)
    assert status == 409
    assert body["message"] == "A transaction with that import id exists."


def test_multi_line_quoted_fields_are_one_line_and_rows_still_count(user):
    account = user.account(opening_balance="0.00")
    data = b'Date,Description,Amount\n2025-01-02,"Card\r\npayment\tshop",-1.00\n2025-01-03,x,y\n'
    response = upload(user, account, data)
    assert response.status_code == 422
    assert response.json["errors"]["rows"] == [
        {"row": 2, "message": "The amount 'y' is not a number."}
    ]
    assert upload(user, account, data, skip_invalid="true").json["skipped"] == 1
    assert listed(user)[0]["description"] == "Card payment shop"


def test_bad_rows_listed_are_capped(user):
    account = user.account()
    response = upload(user, account, b"Date,Amount\n" + b"2025-01-01,zero\n" * 1500)
    assert response.status_code == 422
    rows = response.json["errors"]["rows"]
    assert len(rows) == 1000 and rows[0]["row"] == 1 and rows[-1]["row"] == 1000
    answer = upload(
        user, account, b"Date,Amount\n" + b"2025-01-01,zero\n" * 1500, skip_invalid="true"
    )
    assert (answer.json["added"], answer.json["skipped"], len(answer.json["errors"])) == (
        0,
        1500,
        1000,
    )


def test_ofx_version_is_detected(user):
    sgml = upload(user, user.account(), sample("card-statement.ofx"), "c.ofx", dry_run="true")
    xml = upload(
        user, user.account(), OFX2.format(currency="USD").encode(), "c.qfx", dry_run="true"
    )
    assert (sgml.json["detected"]["version"], xml.json["detected"]["version"]) == ("102", "220")


def test_the_bulk_insert_keeps_every_value_exactly(app, user):
    """post_rows' COPY: empty strings stay empty (not NULL), None is NULL, and quotes, commas,
    backslashes, COPY's own markers and Unicode come back as written."""
    from datetime import date
    from decimal import Decimal

    from app import ledger
    from app.transactions.models import Transaction

    account = user.account(currency="BHD")
    texts = ["", '"quoted", comma', "back\\slash \\N", "\\N", "NULL", "Ünïcødé ☕ 𝄞", " x "]
    rows = [
        {
            "type": "income" if i % 2 else "expense",
            "account_id": account["id"],
            "transfer_account_id": None,
            "category_id": None,
            "amount": Decimal("0.001") * (i + 1),
            "date": date(2025, 1, 1 + i),
            "description": text,
            "payee": None if i == 0 else text,
            "import_id": None if i == 1 else text,
        }
        for i, text in enumerate(texts)
    ]
    with app.app_context():
        ledger.post_rows(user.id, rows)
        db.session.commit()
        stored = db.session.execute(
            sa.select(
                Transaction.description,
                Transaction.payee,
                Transaction.import_id,
                Transaction.amount,
            )
            .where(Transaction.user_id == user.id)
            .order_by(Transaction.date)
        ).all()
    assert [tuple(row) for row in stored] == [
        (row["description"], row["payee"], row["import_id"], i + 1) for i, row in enumerate(rows)
    ]
    assert user.balance(account) == "-0.004"  # -1 +2 -3 +4 -5 +6 -7 thousandths


def test_a_bad_row_late_in_a_bulk_insert_is_its_own_422_and_writes_nothing(app, user):
    """COPY reads rows as they are prepared: a row that cannot be (too many decimals for its
    currency), after whole batches went in, is still the 422 it is, and the rollback keeps
    none of the rows before it."""
    from datetime import date
    from decimal import Decimal

    from app import ledger
    from app.common.errors import Unprocessable

    account = user.account()
    rows = [
        {
            "type": "expense",
            "account_id": account["id"],
            "transfer_account_id": None,
            "category_id": None,
            "amount": Decimal("1.00"),
            "date": date(2025, 1, 1),
            "description": f"row {i}",
            "payee": None,
            "import_id": f"late-{i}",
        }
        for i in range(ledger.COPY_BATCH * 2 + 10)
    ]
    rows[-1]["amount"] = Decimal("1.001")
    with app.test_request_context():
        with pytest.raises(Unprocessable) as caught:
            ledger.post_rows(user.id, rows)
        db.session.rollback()
    assert "USD amounts have at most 2 decimal places" in caught.value.message
    assert listed(user) == []
    assert user.balance(account) == "0.00"


def test_rows_posted_in_batches_are_summed_once_and_stay_on_the_locked_accounts(app, user):
    """RowPosting: batches inserted as they come, the balances, rollups and count written
    once at the end; a row naming an account not locked at the start is refused (locking it
    then, out of order, could deadlock two postings)."""
    from datetime import date
    from decimal import Decimal

    from app import ledger
    from app.transactions.models import Transaction

    account, other = user.account(opening_balance="0.00"), user.account(opening_balance="0.00")

    def row(i: int, account_id: int) -> dict:
        return {
            "type": "expense" if i % 3 else "income",
            "account_id": account_id,
            "transfer_account_id": None,
            "category_id": None,
            "amount": Decimal("1.25"),
            "date": date(2025, 1 + i % 12, 1),
            "description": f"batch row {i}",
            "payee": f"payee {i % 4}",
            "import_id": f"b-{i}",
        }

    with app.app_context():
        posting = ledger.RowPosting(user.id, [account["id"]])
        for start in (0, 10, 20):
            posting.add([row(i, account["id"]) for i in range(start, start + 10)])
        posting.add([])
        with pytest.raises(RuntimeError, match="not locked at the start"):
            posting.add([row(99, other["id"])])
        posting.finish()
        db.session.commit()
        count = db.session.scalar(
            sa.select(sa.func.count()).where(Transaction.account_id == account["id"])
        )
    assert count == 30
    # 10 incomes (i % 3 == 0) and 20 expenses of 1.25
    assert user.balance(account) == "-12.50"
    assert user.balance(other) == "0.00"
    assert user.get(user.url("transactions")).headers["X-Total-Count"] == "30"


def test_generated_import_ids_never_change():
    """The ids of lines without one are stored: a file imported again, by any version, must
    map to the same ones (values computed by the first implementation, which counted the
    occurrences by the three strings)."""
    from datetime import date
    from decimal import Decimal

    from app.imports.statement import Line, assign_import_ids

    lines = [
        Line(1, date(2025, 1, 2), Decimal("-3.50"), "Coffee", None),
        Line(2, date(2025, 1, 2), Decimal("-3.5"), "Coffee", None),  # the same, again
        Line(3, date(2025, 1, 2), Decimal("-3.50"), "Coffee", None, "bank-7"),
        Line(4, date(2025, 1, 3), Decimal("1200"), "Café ☕ Größe", "x"),
    ]
    assign_import_ids(lines)
    assert [line.import_id for line in lines] == [
        "h:ee6b6fc910ab054dc1fd9ac236ecc6a19af8ad89",
        "h:0a81a22c1e6e208941d233192bb40670e0279030",
        "bank-7",
        "h:e14d6c3f8a34bb068cd98eb999324018b4628959",
    ]


def test_a_bad_row_after_posted_batches_is_a_422_that_writes_nothing(user, monkeypatch):
    """The file is read and posted a batch at a time: a bad row after some batches went in
    still lists every problem and leaves nothing (the request's rollback), and a repeated
    import id in a later batch is still a duplicate."""
    from app.imports import service

    monkeypatch.setattr(service, "POST_BATCH", 3)
    account = user.account(opening_balance="0.00")
    lines = ["Date,Description,Amount,Transaction ID"]
    lines += [f"2025-01-{day:02d},Row {day},-1.00,id-{day}" for day in range(1, 11)]
    lines[8] = "2025-01-08,Row 8,lots,id-8"  # the 8th data row: after two whole batches
    lines.append("2025-01-11,Again,-1.00,id-2")  # id-2 again, three batches later
    bad = "\n".join(lines).encode()
    response = upload(user, account, bad)
    assert response.status_code == 422, response.json
    assert [error["row"] for error in response.json["errors"]["rows"]] == [8]
    assert listed(user) == []
    assert user.balance(account) == "0.00"

    dry = upload(user, account, bad, skip_invalid="true", dry_run="true")
    assert (dry.json["added"], dry.json["duplicates"]) == (9, 1), dry.json
    assert listed(user) == []

    skipped = upload(user, account, bad, skip_invalid="true")
    assert skipped.status_code == 200, skipped.json
    assert (skipped.json["added"], skipped.json["duplicates"], skipped.json["skipped"]) == (
        9,
        1,
        1,
    )
    assert user.balance(account) == "-9.00"
    again = upload(user, account, bad, skip_invalid="true").json
    assert (again["added"], again["duplicates"]) == (0, 10)
