"""The floor: the least a Flask process can do for our hot requests, served beside the app in
`make bench` under the same gunicorn settings, from the same database.

Flask, PyJWT, psycopg2 and orjson; no ORM, no schemas, no middleware. Each view decodes the same
bearer token (HS256, JWT_SECRET_KEY), checks it the way the app must (one query: the user, the
token version and the revocation list), and answers with the same fields as the app:
`/users/me/`, one transaction, a list page of 100 with `X-Total-Count` (the kept count when
unfiltered, else `count(*)`), and the writes done by hand: an insert plus the balance and count
increments in one database transaction, a move to another account, a delete. The share of
this floor that a scenario reaches is the overhead the app chose to pay for everything else
(validation, documentation, idempotency, ETags, logging).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from hashlib import blake2b

import jwt
import orjson
import psycopg2
from flask import Flask, Response, abort, request
from iso4217 import Currency

app = Flask(__name__)
SECRET = os.environ["JWT_SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
_connection = None

AUTH_SQL = (
    "SELECT id, username, email, created_at, base_currency, token_version,"
    " EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ANY(%s))"
    " FROM users WHERE id = %s"
)
COLUMNS = (
    "id, user_id, account_id, category_id, type, amount, currency, date, description, payee,"
    " transfer_account_id, transfer_amount, transfer_currency, status, transfer_status,"
    " recurring_id, created_at, updated_at"
)
SORTS = {"date": "date {o}, id {o}", "amount": "amount_scaled {o}, id {o}"}
DIGITS: dict[str, int] = {}


def connection():
    """One connection per worker process, opened after gunicorn forks."""
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg2.connect(DATABASE_URL, options="-c timezone=UTC")
    return _connection


def authenticate(cur) -> tuple:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        abort(401)
    try:
        payload = jwt.decode(header[7:], SECRET, algorithms=["HS256"])
        user_id = int(payload["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        abort(401)
    jtis = [payload.get("jti"), f"fam:{payload.get('fam')}"]
    cur.execute(AUTH_SQL, (jtis, user_id))
    user = cur.fetchone()
    if user is None or user[6] or user[5] != payload.get("ver"):
        abort(401)
    return user


def digits(currency: str) -> int:
    if currency not in DIGITS:
        DIGITS[currency] = Currency(currency).exponent
    return DIGITS[currency]


def money(minor: int | None, currency: str | None) -> str | None:
    if minor is None:
        return None
    places = digits(currency)
    if places == 0:
        return str(minor)
    whole, part = divmod(abs(minor), 10**places)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{places}d}"


def rate(row) -> str | None:
    if row[11] is None:
        return None
    # Exact only in the common case the bench exercises (one currency); the app's rule is
    # money.implied_rate, which this floor does not pretend to reimplement.
    return "1" if row[6] == row[12] and row[5] == row[11] else None


def transaction(row, splits, tags) -> dict:
    return {
        "id": row[0],
        "user_id": row[1],
        "account_id": row[2],
        "category_id": row[3],
        "type": row[4],
        "amount": money(row[5], row[6]),
        "currency": row[6],
        "date": row[7].isoformat(),
        "description": row[8],
        "payee": row[9],
        "transfer_account_id": row[10],
        "transfer_amount": money(row[11], row[12]),
        "transfer_currency": row[12],
        "exchange_rate": rate(row),
        "status": row[13],
        "transfer_status": row[14],
        "splits": [
            {"category_id": c, "amount": money(a, row[6]), "note": n}
            for c, a, n in splits.get(row[0], ())
        ],
        "tags": tags.get(row[0], []),
        "recurring_id": row[15],
        "created_at": row[16].isoformat(),
        "updated_at": row[17].isoformat(),
    }


def parts(cur, ids: list[int]) -> tuple[dict, dict]:
    """The splits and tags of these transactions: one query each, as the app does."""
    splits: dict[int, list] = {}
    tags: dict[int, list] = {}
    if ids:
        cur.execute(
            "SELECT transaction_id, category_id, amount, note FROM transaction_splits"
            " WHERE transaction_id = ANY(%s) ORDER BY id",
            (ids,),
        )
        for txn, *split in cur.fetchall():
            splits.setdefault(txn, []).append(split)
        cur.execute(
            "SELECT transaction_id, tag FROM transaction_tags WHERE transaction_id = ANY(%s)"
            " ORDER BY tag",
            (ids,),
        )
        for txn, tag in cur.fetchall():
            tags.setdefault(txn, []).append(tag)
    return splits, tags


def one(cur, user_id: int, txn_id: int) -> dict:
    cur.execute(
        f"SELECT {COLUMNS} FROM transactions WHERE id = %s AND user_id = %s", (txn_id, user_id)
    )
    row = cur.fetchone()
    if row is None:
        abort(404)
    return transaction(row, *parts(cur, [row[0]]))


def json(body, status: int = 200, **headers) -> Response:
    return Response(orjson.dumps(body), status, headers, mimetype="application/json")


@app.get("/users/me/")
def me():
    with connection() as conn, conn.cursor() as cur:
        user = authenticate(cur)
    return json(
        {
            "id": user[0],
            "username": user[1],
            "email": user[2],
            "created_at": user[3].isoformat(),
            "base_currency": user[4],
        }
    )


@app.get("/users/<int:user_id>/transactions/")
def page(user_id: int):
    args = request.args
    where, params = ["user_id = %s"], [user_id]
    for name, clause, convert in (
        ("start_date", "date >= %s", date.fromisoformat),
        ("end_date", "date <= %s", date.fromisoformat),
        ("category_id", "category_id = %s", int),
        ("transaction_type", "type = %s", str),
    ):
        if name in args:
            where.append(clause)
            params.append(convert(args[name]))
    direction = "ASC" if args.get("order") == "asc" else "DESC"
    order = SORTS[args.get("sort_by", "date")].format(o=direction)
    skip, limit = int(args.get("skip", 0)), int(args.get("limit", 100))
    with connection() as conn, conn.cursor() as cur:
        if authenticate(cur)[0] != user_id:
            abort(403)
        filtered = " AND ".join(where)
        if len(where) == 1:
            cur.execute("SELECT transaction_count FROM users WHERE id = %s", (user_id,))
        else:
            cur.execute(f"SELECT count(*) FROM transactions WHERE {filtered}", params)
        total = cur.fetchone()[0]
        # A deferred join: the ids from the index, then the page's rows.
        cur.execute(
            f"SELECT {COLUMNS} FROM transactions WHERE id IN (SELECT id FROM transactions"
            f" WHERE {filtered} ORDER BY {order} LIMIT %s OFFSET %s) ORDER BY {order}",
            [*params, limit, skip],
        )
        rows = cur.fetchall()
        splits, tags = parts(cur, [row[0] for row in rows])
    body = [transaction(row, splits, tags) for row in rows]
    return json(body, **{"X-Total-Count": str(total)})


@app.get("/users/<int:user_id>/transactions/<int:txn_id>")
def single(user_id: int, txn_id: int):
    with connection() as conn, conn.cursor() as cur:
        if authenticate(cur)[0] != user_id:
            abort(403)
        body = orjson.dumps(one(cur, user_id, txn_id))
    etag = blake2b(body, digest_size=16).hexdigest()
    return Response(body, 200, {"ETag": f'"{etag}"'}, mimetype="application/json")


def effects(txn_type: str, account: int, target: int | None, amount: int, arrived: int | None):
    """(account, delta) pairs: what a transaction does to balances."""
    if txn_type == "income":
        return [(account, amount)]
    if txn_type == "expense":
        return [(account, -amount)]
    return [(account, -amount), (target, arrived if arrived is not None else amount)]


def move(cur, changes) -> None:
    """Lock the accounts in ascending order, then increment."""
    for account, delta in sorted(changes):
        cur.execute(
            "UPDATE accounts SET balance = balance + %s, updated_at = %s WHERE id = %s",
            (delta, datetime.now(UTC), account),
        )


@app.post("/users/<int:user_id>/transactions/")
def create(user_id: int):
    data = orjson.loads(request.get_data())
    with connection() as conn, conn.cursor() as cur:
        if authenticate(cur)[0] != user_id:
            abort(403)
        cur.execute(
            "SELECT currency FROM accounts WHERE id = %s AND user_id = %s AND NOT archived"
            " FOR UPDATE",
            (data["account_id"], user_id),
        )
        account = cur.fetchone()
        if account is None:
            abort(404)
        currency = account[0]
        places = digits(currency)
        whole, _, part = data["amount"].partition(".")
        minor = int(whole) * 10**places + int((part or "0").ljust(places, "0"))
        now = datetime.now(UTC)
        cur.execute(
            "INSERT INTO transactions (user_id, account_id, type, amount, currency,"
            " amount_scaled, date, description, status, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s)"
            f" RETURNING {COLUMNS}",
            (
                user_id,
                data["account_id"],
                data["type"],
                minor,
                currency,
                minor * 10 ** (4 - places),
                data.get("date", now.date().isoformat()),
                data.get("description", ""),
                now,
                now,
            ),
        )
        row = cur.fetchone()
        move(cur, effects(row[4], row[2], None, minor, None))
        cur.execute(
            "UPDATE users SET transaction_count = transaction_count + 1 WHERE id = %s", (user_id,)
        )
    return json(transaction(row, {}, {}), 201)


@app.patch("/users/<int:user_id>/transactions/<int:txn_id>")
def update(user_id: int, txn_id: int):
    data = orjson.loads(request.get_data())
    with connection() as conn, conn.cursor() as cur:
        if authenticate(cur)[0] != user_id:
            abort(403)
        cur.execute(
            "SELECT type, account_id, transfer_account_id, amount, transfer_amount"
            " FROM transactions WHERE id = %s AND user_id = %s FOR UPDATE",
            (txn_id, user_id),
        )
        old = cur.fetchone()
        if old is None:
            abort(404)
        cur.execute(
            "SELECT id FROM accounts WHERE id = %s AND user_id = %s AND NOT archived",
            (data["account_id"], user_id),
        )
        if cur.fetchone() is None:
            abort(404)
        undo = [(a, -d) for a, d in effects(*old)]
        redo = effects(old[0], data["account_id"], old[2], old[3], old[4])
        move(cur, undo + redo)
        cur.execute(
            "UPDATE transactions SET account_id = %s, updated_at = %s WHERE id = %s",
            (data["account_id"], datetime.now(UTC), txn_id),
        )
        body = one(cur, user_id, txn_id)
    return json(body)


@app.delete("/users/<int:user_id>/transactions/<int:txn_id>")
def delete(user_id: int, txn_id: int):
    with connection() as conn, conn.cursor() as cur:
        if authenticate(cur)[0] != user_id:
            abort(403)
        cur.execute(
            "DELETE FROM transactions WHERE id = %s AND user_id = %s"
            " RETURNING type, account_id, transfer_account_id, amount, transfer_amount",
            (txn_id, user_id),
        )
        old = cur.fetchone()
        if old is None:
            abort(404)
        move(cur, [(a, -d) for a, d in effects(*old)])
        cur.execute(
            "UPDATE users SET transaction_count = transaction_count - 1 WHERE id = %s", (user_id,)
        )
    return Response(status=204)


@app.get("/healthz")
def health():
    return json({"status": "ok"})
