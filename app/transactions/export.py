"""The caller's transactions as a file: CSV (RFC 4180, read back by the import) or a JSON array,
streamed from a server-side cursor so that a million rows take constant memory.

On PostgreSQL the database writes each CSV line itself (`csv_line_sql`: money formatted from
integer minor units with the currency's digits, text quoted as Python's csv module quotes it)
and Python only joins a batch of lines: several times faster than formatting a million rows
here. Elsewhere (SQLite, `make run`) Python's csv module writes them. The two write the same
bytes for the same rows (tests/test_export.py checks it).

CSV columns: id, date, type, amount, currency, account_id, transfer_account_id, category_id,
description, payee, import_id. `amount` is signed as the transaction moves its account_id's
balance (income positive; expense and a transfer's source negative), which is what an import
into that account reads back; `type` and `transfer_account_id` say the rest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
from iso4217 import Currency
from sqlalchemy import String, Text, case, cast, func, literal, select, type_coerce

from app.accounts.models import Account
from app.common import money
from app.extensions import db
from app.ledger.effects import SIGNS
from app.transactions import queries
from app.transactions.models import Transaction

COLUMNS = (
    "id",
    "date",
    "type",
    "amount",
    "currency",
    "account_id",
    "transfer_account_id",
    "category_id",
    "description",
    "payee",
    "import_id",
    # Issue 12's fields: what a transfer's other side received, and each side's status.
    "transfer_amount",
    "transfer_currency",
    "status",
    "transfer_status",
)
#: Rows fetched from the cursor, and written to the response, at a time.
BATCH = 2000
#: Lines fetched from PostgreSQL's cursor, and written to the response, at a time (~1 MB).
SQL_BATCH = 10_000
#: The sign of each type's effect on its account_id (the ledger's one effect rule).
SIGN = {type_: signs[0] for type_, signs in SIGNS.items()}


def decimal_text(minor: int, places: int) -> str:
    """`minor` units as a decimal string with `places` decimals, in integer arithmetic (as exact
    as money.format_minor, and several times faster over a million rows)."""
    if not places:
        return str(minor)
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{fraction:0{places}d}"


def rows(user_id: int, args: dict) -> Iterator[list[tuple]]:
    """The matching rows, in the list's order, a batch at a time from a server-side cursor."""
    t = Transaction
    stmt = (
        queries.list_stmt(user_id, args)
        .with_only_columns(
            t.id,
            t.date,
            # Read as the plain string it is stored as: no Enum result processing per row.
            type_coerce(t.type, String()),
            t.amount,
            t.currency,
            t.account_id,
            t.transfer_account_id,
            t.category_id,
            t.description,
            t.payee,
            t.import_id,
            t.transfer_amount,
            t.transfer_currency,
            type_coerce(t.status, String()),
            type_coerce(t.transfer_status, String()),
        )
        .order_by(*queries.sort_order(args))
    )
    # A Core result on the session's connection: a server-side cursor, no ORM row processing.
    connection = db.session.connection().execution_options(
        stream_results=True, max_row_buffer=BATCH
    )
    yield from connection.execute(stmt).partitions(BATCH)


def csv_lines(user_id: int, args: dict) -> Iterator[str]:
    """The CSV file, a batch of lines at a time: written by PostgreSQL where it serves, by
    Python's csv module elsewhere."""
    if db.session.get_bind().dialect.name == "postgresql":
        return csv_lines_sql(user_id, args)
    return csv_lines_python(user_id, args)


def csv_lines_python(user_id: int, args: dict) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180: CRLF, quotes doubled
    writer.writerow(COLUMNS)
    places: dict[str, int] = {}
    for batch in rows(user_id, args):
        for row in batch:
            (id_, day, type_, amount, currency, account, destination, category) = row[:8]
            if currency not in places:
                places[currency] = money.digits(currency)
            writer.writerow(
                (
                    id_,
                    day.isoformat(),
                    type_,
                    decimal_text(SIGN[type_] * amount, places[currency]),
                    currency,
                    account,
                    destination,
                    category,
                    *row[8:11],
                    None if row[11] is None else money.format_minor(row[11], row[12]),
                    *row[12:15],
                )
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


#: ISO 4217 currencies whose minor unit is not 2 digits (JPY 0, BHD 3, CLF 4...).
OTHER_DIGITS = {
    currency.code: currency.exponent
    for currency in Currency
    if currency.exponent is not None and currency.exponent != 2
}
#: What makes Python's csv module (QUOTE_MINIMAL, CRLF line ends) quote a field: the
#: delimiter, the quote, or a character of the line terminator.
NEEDS_QUOTES = '[",\r\n]'


def csv_text(column):
    """A text column as a CSV field, quoted as Python's csv module quotes it; NULL is empty."""
    value = func.coalesce(column, literal(""))
    return case(
        (
            value.regexp_match(NEEDS_QUOTES),
            func.concat('"', func.replace(value, '"', '""', type_=Text), '"', type_=Text),
        ),
        else_=value,
    )


def csv_integer(column):
    return func.coalesce(cast(column, Text), literal(""))


def digits_of(currency_column, currencies: list[str]):
    """The currency's minor-unit digits: the user's own currencies first (the common case, a
    short CASE), then every ISO 4217 exception, else 2."""
    others = case(OTHER_DIGITS, value=currency_column, else_=2) if OTHER_DIGITS else 2
    if not currencies:
        return others
    return case(
        {currency: money.digits(currency) for currency in currencies},
        value=currency_column,
        else_=others,
    )


def money_text(minor, currency_column, currencies: list[str], negative=None):
    """Positive minor units as the decimal string decimal_text writes, in integer arithmetic
    in SQL (no float, no numeric rounding): whole part, a point, the fraction zero-padded to
    the currency's digits; `-` first where `negative` holds."""
    branches = {0: cast(minor, Text)}
    for places in sorted({*OTHER_DIGITS.values(), 2} - {0}):
        unit = 10**places
        # Integer division and remainder: amounts are positive, so // truncates exactly.
        branches[places] = func.concat(
            cast(minor // unit, Text),
            ".",
            func.lpad(cast(minor % unit, Text), places, "0", type_=Text),
            type_=Text,
        )
    text = case(branches, value=digits_of(currency_column, currencies))
    if negative is None:
        return text
    return case((negative, func.concat("-", text, type_=Text)), else_=text)


def csv_line_sql(currencies: list[str]):
    """One CSV line of COLUMNS, CRLF-terminated, as PostgreSQL writes it."""
    t = Transaction
    negative = [type_ for type_, sign in SIGN.items() if sign < 0]
    fields = [
        cast(t.id, Text),
        cast(t.date, Text),
        cast(t.type, Text),
        money_text(t.amount, t.currency, currencies, negative=t.type.in_(negative)),
        t.currency,
        cast(t.account_id, Text),
        csv_integer(t.transfer_account_id),
        csv_integer(t.category_id),
        csv_text(t.description),
        csv_text(t.payee),
        csv_text(t.import_id),
        case(
            (t.transfer_amount.is_(None), literal("")),
            else_=money_text(t.transfer_amount, t.transfer_currency, currencies),
        ),
        func.coalesce(t.transfer_currency, literal("")),
        cast(t.status, Text),
        func.coalesce(cast(t.transfer_status, Text), literal("")),
    ]
    return func.concat(func.concat_ws(",", *fields, type_=Text), "\r\n", type_=Text)


def json_text(column):
    """A text column as a JSON string, or null: PostgreSQL escapes as orjson does."""
    return func.coalesce(cast(func.to_json(column), Text), literal("null"))


def json_quoted(text):
    return func.concat('"', text, '"', type_=Text)


def json_integer(column):
    return func.coalesce(cast(column, Text), literal("null"))


def json_object_sql(currencies: list[str]):
    """One transaction as json_chunks_python's orjson writes it: the same keys, in the same
    order, compact, amounts as decimal strings."""
    t = Transaction
    parts = [
        ("id", cast(t.id, Text)),
        ("date", json_quoted(cast(t.date, Text))),
        ("type", json_quoted(cast(t.type, Text))),
        ("amount", json_quoted(money_text(t.amount, t.currency, currencies))),
        ("currency", json_quoted(t.currency)),
        ("account_id", cast(t.account_id, Text)),
        ("transfer_account_id", json_integer(t.transfer_account_id)),
        ("category_id", json_integer(t.category_id)),
        ("description", json_text(t.description)),
        ("payee", json_text(t.payee)),
        ("import_id", json_text(t.import_id)),
        (
            "transfer_amount",
            case(
                (t.transfer_amount.is_(None), literal("null")),
                else_=json_quoted(money_text(t.transfer_amount, t.transfer_currency, currencies)),
            ),
        ),
        ("transfer_currency", json_text(t.transfer_currency)),
        ("status", json_quoted(cast(t.status, Text))),
        ("transfer_status", json_text(cast(t.transfer_status, Text))),
    ]
    pieces = []
    for index, (key, value) in enumerate(parts):
        pieces += [("{" if index == 0 else ",") + f'"{key}":', value]
    return func.concat(*pieces, "}", type_=Text)


def sql_lines(user_id: int, args: dict, line) -> Iterator[str]:
    """`line(currencies)` of every matching transaction, in the list's order, SQL_BATCH at a
    time from a server-side cursor, the next batch prefetched."""
    currencies = sorted(
        db.session.scalars(select(Account.currency).where(Account.user_id == user_id).distinct())
    )
    stmt = (
        queries.list_stmt(user_id, args)
        .with_only_columns(line(currencies).label("line"))
        .order_by(*queries.sort_order(args))
    )
    connection = db.session.connection()
    # date::text is YYYY-MM-DD in the ISO style (and far cheaper than to_char); for this
    # transaction only, whatever the server's default.
    connection.exec_driver_sql("SET LOCAL datestyle = 'ISO, YMD'")
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    # psycopg2's named cursor (a server-side one: DECLARE ... FETCH), on the session's
    # connection and in its transaction; closed when the response ends or is abandoned.
    with connection.connection.driver_connection.cursor(name="transactions_export") as cursor:
        cursor.execute(str(compiled), compiled.params)
        for batch in prefetched(cursor, SQL_BATCH):
            yield [line for (line,) in batch]


def json_chunks_sql(user_id: int, args: dict) -> Iterator[bytes]:
    """The JSON array with every object written by PostgreSQL."""
    yield b"["
    first = True
    for objects in sql_lines(user_id, args, json_object_sql):
        chunk = ",".join(objects).encode()
        yield chunk if first else b"," + chunk
        first = False
    yield b"]"


def csv_lines_sql(user_id: int, args: dict) -> Iterator[str]:
    """The CSV file with every line written by PostgreSQL, fetched SQL_BATCH lines at a time
    and joined: Python touches one string per row."""
    yield ",".join(COLUMNS) + "\r\n"
    for lines in sql_lines(user_id, args, csv_line_sql):
        yield "".join(lines)


def prefetched(cursor, size: int) -> Iterator[list[tuple]]:
    """The cursor's rows `size` at a time, the next batch fetched in a thread while the caller
    sends this one: the database formats rows while the worker writes (psycopg2 lets go of the
    GIL while it waits). Only that thread uses the cursor until the generator ends; closing
    it early waits for the fetch under way, then the caller closes the cursor."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-fetch") as pool:
        pending = pool.submit(cursor.fetchmany, size)
        while batch := pending.result():
            pending = pool.submit(cursor.fetchmany, size)
            yield batch


def json_chunks(user_id: int, args: dict) -> Iterator[bytes]:
    """A JSON array of the fields the list shows (amount a positive decimal string): written
    by PostgreSQL where it serves (json_object_sql), by orjson elsewhere, the same bytes."""
    if db.session.get_bind().dialect.name == "postgresql":
        return json_chunks_sql(user_id, args)
    return json_chunks_python(user_id, args)


def json_chunks_python(user_id: int, args: dict) -> Iterator[bytes]:
    yield b"["
    first = True
    places: dict[str, int] = {}
    for batch in rows(user_id, args):
        for row in batch:
            if row[4] not in places:
                places[row[4]] = money.digits(row[4])
        items = [
            orjson.dumps(
                {
                    "id": row[0],
                    "date": row[1].isoformat(),
                    "type": row[2],
                    "amount": decimal_text(row[3], places[row[4]]),
                    "currency": row[4],
                    "account_id": row[5],
                    "transfer_account_id": row[6],
                    "category_id": row[7],
                    "description": row[8],
                    "payee": row[9],
                    "import_id": row[10],
                    "transfer_amount": None
                    if row[11] is None
                    else money.format_minor(row[11], row[12]),
                    "transfer_currency": row[12],
                    "status": row[13],
                    "transfer_status": row[14],
                }
            )
            for row in batch
        ]
        chunk = b",".join(items)
        if chunk:
            yield chunk if first else b"," + chunk
            first = False
    yield b"]"
