"""Keeping the monthly rollups (app.ledger.models) exact: what each transaction contributes is
said as SQL (`contributions`) and, for a row without splits or tags, in Python (`contribute`,
for the rows a writer holds; `verify` compares the rollups with the SQL after every test of the
suite), and every write moves the rollups by the difference,
inside the writer's database transaction, as `INSERT … ON CONFLICT DO UPDATE SET amount =
amount + excluded.amount` (atomic, like a balance):

- ORM writes (amend, and the category, payee, split and tag changes the transactions
  service makes on the transaction the ledger locked): a flush hook takes the touched
  transactions' contributions out just before the flush (from the rows as they are in the
  database) and puts them back just after (as they now are). Whatever the flush changed, the
  rollups follow, and a flush that changes nothing they count costs nothing. A transaction
  with no splits and no tags, whose columns the session holds (the ledger loads its parts
  known empty), moves them by the difference computed in Python (`contribute`), one upsert
  text and no statement reading it back: most writes.
- The ledger's own Core writes of such rows (post_many's inserts, reverse's deletes) add or
  take out what `contribute` computes from the row, likewise.
- Core writes, which no flush sees: `post_rows` adds what it inserts (`contribute` per row
  as it goes, one `write` at the end), an import's tags go in through `add_tags`,
  `close_account` takes out what it deletes, and `rewriting` brackets bulk changes made
  elsewhere (rules categorising and tagging a range, a category deleted: ON DELETE SET NULL).
- Deleting a user or an account drops their rows (ON DELETE CASCADE).

Each rollup row is one account's: a writer changes it only under that account's lock (every
writer takes its accounts' locks first), so two writers never wait on each other's rollup
rows in opposite orders.

`verify` compares the rollups with `contributions` over every row; `rebuild` recomputes a
user's from their rows; migration 0020 backfilled them the same way.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, case, event, func, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.accounts.models import Account
from app.common import periods
from app.extensions import db
from app.ledger.audit import Discrepancy
from app.ledger.effects import SIGNS
from app.ledger.models import (
    KINDS,
    NO_CATEGORY,
    NO_PAYEE,
    FlowMonth,
    MonthTotal,
    PayeeMonth,
    TagMonth,
)
from app.transactions.models import Transaction, TransactionSplit, TransactionTag

FLOWS = ("income", "expense")
#: What each kind of rollup row does to its account's balance: the effect rule's signs
#: (app.ledger.effects.SIGNS), the source side's for income, expense and transfer_out, the
#: destination side's for transfer_in.
KIND_SIGNS = {
    "income": SIGNS["income"][0],
    "expense": SIGNS["expense"][0],
    "transfer_out": SIGNS["transfer"][0],
    "transfer_in": SIGNS["transfer"][1],
}
assert set(KIND_SIGNS) == set(KINDS)
#: The rollups, always written in this order (each writer's row locks in one order).
TABLES = (
    MonthTotal.__table__,
    FlowMonth.__table__,
    PayeeMonth.__table__,
    TagMonth.__table__,
)
#: Per table: the key columns (its primary key) and the summed ones.
KEYS = {table.name: [column.name for column in table.primary_key.columns] for table in TABLES}
VALUES = {
    table.name: [column.name for column in table.columns if not column.primary_key]
    for table in TABLES
}
MT, FM, PM, TM = TABLES
#: Which rollups each Transaction attribute counts in; a flush that changes none of them
#: leaves the rollups alone, and one that changes only, say, the tags moves only tag_months.
AFFECTS: dict[str, tuple[sa.Table, ...]] = {
    **{name: TABLES for name in ("type", "account_id", "amount", "currency", "date")},
    **{name: (MT, FM) for name in ("transfer_account_id", "transfer_amount", "transfer_currency")},
    "category_id": (MT,),
    "splits": (MT,),
    "payee": (PM,),
    "tag_rows": (TM,),
}


def month_of(column) -> ColumnElement:
    return periods.period_start(column, "month")


def contributions(table: sa.Table, *where: ColumnElement) -> Select:
    """SELECT the rollup `table`'s key columns and sums over the transactions matching
    `where` (conditions on Transaction): what they contribute to it."""
    t = Transaction
    month = month_of(t.date).label("month")
    if table is MonthTotal.__table__:
        split = TransactionSplit
        is_split = split.id.is_not(None)
        flows = (
            select(
                t.user_id,
                month,
                t.account_id,
                t.type.label("kind"),
                func.coalesce(
                    case((is_split, split.category_id), else_=t.category_id), NO_CATEGORY
                ).label("category_id"),
                t.currency,
                case((is_split, split.amount), else_=t.amount).label("amount"),
            )
            .select_from(t)
            .outerjoin(split, split.transaction_id == t.id)
            .where(t.type.in_(FLOWS), *where)
        )
        sides = [
            select(
                t.user_id,
                month,
                account,
                literal(kind, sa.String).label("kind"),
                literal(NO_CATEGORY, sa.Integer).label("category_id"),
                currency.label("currency"),
                amount.label("amount"),
            ).where(t.type == "transfer", *where)
            for kind, account, currency, amount in (
                ("transfer_out", t.account_id, t.currency, t.amount),
                ("transfer_in", t.transfer_account_id, t.transfer_currency, t.transfer_amount),
            )
        ]
        rows = union_all(flows, *sides).subquery()
        keys = [rows.c[name] for name in KEYS[table.name]]
        return select(*keys, func.sum(rows.c.amount).label("amount")).group_by(*keys)
    if table is FlowMonth.__table__:
        parts = [
            select(
                t.user_id,
                month,
                t.account_id.label("account_id"),
                t.type.label("kind"),
                t.currency.label("currency"),
                t.amount.label("amount"),
            ).where(t.type.in_(FLOWS), *where)
        ] + [
            select(t.user_id, month, account, literal(kind, sa.String), currency, amount).where(
                t.type == "transfer", *where
            )
            for kind, account, currency, amount in (
                ("transfer_out", t.account_id, t.currency, t.amount),
                ("transfer_in", t.transfer_account_id, t.transfer_currency, t.transfer_amount),
            )
        ]
        rows = union_all(*parts).subquery()
        keys = [rows.c[name] for name in KEYS[table.name]]
        return select(*keys, func.sum(rows.c.amount).label("amount")).group_by(*keys)
    if table is PayeeMonth.__table__:
        payee = func.coalesce(t.payee, NO_PAYEE)
        keys = [t.user_id, month, t.account_id, payee.label("payee"), t.currency]
        return (
            select(*keys, func.sum(t.amount).label("amount"), func.count().label("count"))
            .where(t.type == "expense", *where)
            .group_by(t.user_id, month_of(t.date), t.account_id, payee, t.currency)
        )
    tag = TransactionTag
    return (
        select(
            t.user_id,
            month,
            t.account_id,
            t.type.label("kind"),
            tag.tag,
            t.currency,
            func.sum(t.amount).label("amount"),
        )
        .join(tag, tag.transaction_id == t.id)
        .where(t.type.in_(FLOWS), *where)
        .group_by(t.user_id, month_of(t.date), t.account_id, t.type, tag.tag, t.currency)
    )


def upsert(connection: sa.Connection, table: sa.Table):
    """INSERT INTO `table` … ON CONFLICT (its key) DO UPDATE SET each sum = sum + the new."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    return statement, {
        name: table.c[name] + statement.excluded[name] for name in VALUES[table.name]
    }


def adjusting(table: sa.Table, dialect_name: str, sign: ColumnElement | int, *where: ColumnElement):
    """The statement that adds `sign` x what the transactions matching `where` contribute to
    `table` (INSERT … SELECT … ON CONFLICT DO UPDATE)."""
    found = contributions(table, *where).subquery()
    columns = [found.c[name] for name in KEYS[table.name]] + [
        found.c[name] if sign == 1 else found.c[name] * sign for name in VALUES[table.name]
    ]
    # SQLite reads `ON CONFLICT` after a bare SELECT as a join's ON: a WHERE ends it.
    rows = select(*columns).where(sa.true())
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table)
    sums = {name: table.c[name] + statement.excluded[name] for name in VALUES[table.name]}
    return statement.from_select(KEYS[table.name] + VALUES[table.name], rows).on_conflict_do_update(
        index_elements=KEYS[table.name], set_=sums
    )


def adjust(
    connection: sa.Connection, sign: int, *where: ColumnElement, tables: Sequence = TABLES
) -> None:
    """Add (sign 1) or take out (sign -1) what the transactions matching `where` contribute
    (to every rollup, or to `tables`)."""
    for table in tables:
        connection.execute(adjusting(table, connection.dialect.name, sign, *where))


#: (table, dialect) -> the statement adjusting by transaction ids, built once: a write runs
#: it twice a flush per rollup, and building a statement of unions costs more than running it.
_BY_IDS: dict[tuple[str, str], Any] = {}


def by_ids(table: sa.Table, dialect_name: str):
    key = (table.name, dialect_name)
    if key not in _BY_IDS:
        _BY_IDS[key] = adjusting(
            table,
            dialect_name,
            sa.bindparam("sign", type_=sa.Integer),
            Transaction.id.in_(sa.bindparam("ids", expanding=True)),
        )
    return _BY_IDS[key]


def adjust_ids(connection: sa.Connection, sign: int, ids: Iterable[int]) -> None:
    ids = sorted(set(ids))
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        for table in TABLES:
            connection.execute(by_ids(table, connection.dialect.name), {"ids": chunk, "sign": sign})


#: Per rollup, its keys and sums: what `contribute` adds to and `write` upserts.
Sums = dict[str, dict[tuple, list[int]]]


def no_sums() -> Sums:
    return {table.name: defaultdict(lambda: [0, 0]) for table in TABLES}


def contribute(sums: Sums, row: Any, sign: int = 1) -> None:
    """Add `sign` x what one transaction without splits or tags contributes (`row`: its
    columns, as a mapping) to `sums`: the same rule as `contributions`, said in Python for
    the rows a writer holds already (verify checks the two agree, after every test)."""
    day = row["date"] if isinstance(row["date"], date) else date.fromisoformat(row["date"])
    month = day.replace(day=1)
    user_id, type_, account, currency = (
        row["user_id"],
        row["type"],
        row["account_id"],
        row["currency"],
    )
    amount = sign * row["amount"]
    if type_ in FLOWS:
        category = row.get("category_id") or NO_CATEGORY
        sums["month_totals"][(user_id, month, account, type_, category, currency)][0] += amount
        sums["flow_months"][(user_id, month, account, type_, currency)][0] += amount
        if type_ == "expense":
            payee = row.get("payee") or NO_PAYEE
            line = sums["payee_months"][(user_id, month, account, payee, currency)]
            line[0] += amount
            line[1] += sign
        return
    destination, arrived = row["transfer_account_id"], sign * row["transfer_amount"]
    destination_currency = row["transfer_currency"]
    for table, extra in (("month_totals", (NO_CATEGORY,)), ("flow_months", ())):
        sums[table][(user_id, month, account, "transfer_out", *extra, currency)][0] += amount
        sums[table][(user_id, month, destination, "transfer_in", *extra, destination_currency)][
            0
        ] += arrived


def write(connection: sa.Connection, sums: Sums) -> None:
    """Add `sums` to the rollups (keys whose sums came to nothing left alone), in TABLES'
    order: on PostgreSQL a few keys go as one text, one round trip; many (an import's) as
    multi-row upserts."""
    found = lines_of(sums)
    if connection.dialect.name == "postgresql" and (few := upsert_texts(found)) is not None:
        texts, params = few
        if texts:
            connection.exec_driver_sql(";".join(texts), tuple(params))
        return
    for table in TABLES:
        if not found[table.name]:
            continue
        names = KEYS[table.name] + VALUES[table.name]
        width = len(VALUES[table.name])
        statement, set_ = upsert(connection, table)
        upserting = statement.on_conflict_do_update(index_elements=KEYS[table.name], set_=set_)
        if connection.dialect.name == "postgresql":
            # RETURNING makes SQLAlchemy send the keys as multi-row VALUES, 1,000 a statement
            # ("insertmanyvalues"); without it psycopg2's executemany is a round trip per key
            # (tens of thousands for a large import's payee months: 3.9 s against 1.8 s).
            upserting = upserting.returning(table.c[KEYS[table.name][0]])
        # A statement's worth of keys at a time: all of an import's payee months as dicts at
        # once were a quarter of its peak memory.
        lines = found[table.name]
        for start in range(0, len(lines), UPSERT_BATCH):
            values = [
                dict(zip(names, (*key, *totals[:width]), strict=True))
                for key, totals in lines[start : start + UPSERT_BATCH]
            ]
            connection.execute(upserting, values).close()


def lines_of(sums: Sums) -> dict[str, list[tuple[tuple, list[int]]]]:
    """Each table's keys and sums, in key order, those that came to nothing left out."""
    return {
        table.name: sorted((key, totals) for key, totals in sums[table.name].items() if any(totals))
        for table in TABLES
    }


def upsert_texts(found: dict[str, list[tuple[tuple, list[int]]]]) -> tuple[list[str], list] | None:
    """PostgreSQL's upserts of a few keys (a write's) as psycopg2 texts and their parameters,
    to be sent together in one round trip; None for more than 64 keys (an import's), which
    go as multi-row upserts."""
    if sum(map(len, found.values())) > 64:
        return None
    texts: list[str] = []
    params: list = []
    for table in TABLES:
        if found[table.name]:
            texts.append(upsert_text(table, len(found[table.name])))
            width = len(VALUES[table.name])
            for key, totals in found[table.name]:
                params += [*key, *totals[:width]]
    return texts, params


#: Keys a multi-row upsert sends at a time (SQLAlchemy's insertmanyvalues batch).
UPSERT_BATCH = 1000


def upsert_text(table: sa.Table, rows: int) -> str:
    """PostgreSQL's INSERT … VALUES (`rows` rows of psycopg2 placeholders) ON CONFLICT DO UPDATE
    adding the sums (the names are ours, never a caller's)."""
    names = KEYS[table.name] + VALUES[table.name]
    row = "(" + ", ".join(["%s"] * len(names)) + ")"
    sums = ", ".join(
        f"{name} = {table.name}.{name} + excluded.{name}" for name in VALUES[table.name]
    )
    values = ", ".join([row] * rows)
    # Every name is a column of ours and every value a placeholder: nothing of a caller's.
    text = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {values}"  # noqa: S608
    return text + f" ON CONFLICT ({', '.join(KEYS[table.name])}) DO UPDATE SET {sums}"


def in_category(user_id: int, category_id: int) -> ColumnElement:
    """The user's transactions in the category, as a whole or by a split part."""
    split = TransactionSplit
    in_part = select(split.transaction_id).where(
        split.user_id == user_id, split.category_id == category_id
    )
    return sa.or_(Transaction.category_id == category_id, Transaction.id.in_(in_part))


def add_parts(
    user_id: int, *, tags: list[dict[str, Any]] = (), splits: list[dict[str, Any]] = ()
) -> None:
    """Insert tags ({transaction_id, tag, user_id}) and splits ({transaction_id, user_id,
    category_id, amount, note}) by Core, for transactions that have none yet (an import's
    rows, a restore's, a create's, just inserted), and move the rollups with them: the split
    transactions' category lines (taken out whole, put back by part), the tags' amounts."""
    if not (tags or splits):
        return
    connection = db.session.connection()
    split_ids = sorted({value["transaction_id"] for value in splits})
    tag_ids = sorted({value["transaction_id"] for value in tags})
    mine = Transaction.user_id == user_id
    for start in range(0, len(split_ids), 10_000):
        chunk = split_ids[start : start + 10_000]
        adjust(connection, -1, mine, Transaction.id.in_(chunk), tables=[MT])
    if splits:
        db.session.execute(sa.insert(TransactionSplit), list(splits))
    if tags:
        db.session.execute(sa.insert(TransactionTag), list(tags))
    for ids, table in ((split_ids, MT), (tag_ids, TM)):
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            adjust(connection, 1, mine, Transaction.id.in_(chunk), tables=[table])


def add_tags(user_id: int, values: list[dict[str, Any]]) -> None:
    """Insert tags ({transaction_id, tag, user_id} rows) on transactions that have none yet
    (an import's rows, just inserted): their amounts join the tag rollup."""
    if values:
        add_parts(user_id, tags=values)


def backfill_sql(dialect: sa.Dialect) -> list[str]:
    """INSERT … SELECT statements that fill empty rollups from every row (the benchmark's
    seed, which loads rows with COPY, runs them)."""
    statements = []
    for table in TABLES:
        names = KEYS[table.name] + VALUES[table.name]
        statement = sa.insert(table).from_select(names, contributions(table))
        statements.append(
            str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        )
    return statements


@contextmanager
def rewriting(user_id: int, *where: ColumnElement) -> Iterator[list[int]]:
    """Around a bulk change (a Core UPDATE, or a delete's ON DELETE SET NULL) of the user's
    transactions matching `where`: lock them (the ledger's order: rows, then every account
    of the user, ascending), take their contributions out, let the caller change them, put
    back what they contribute then. Yields the locked ids."""
    ids = list(
        db.session.scalars(
            select(Transaction.id)
            .where(Transaction.user_id == user_id, *where)
            .order_by(Transaction.id)
            .with_for_update()
        )
    )
    if not ids:
        yield ids
        return
    db.session.execute(
        select(Account.id).where(Account.user_id == user_id).order_by(Account.id).with_for_update()
    )
    connection = db.session.connection()
    adjust_ids(connection, -1, ids)
    yield ids
    db.session.flush()
    adjust_ids(connection, 1, ids)


# --- the flush hook ----------------------------------------------------------------------------


def changed_tables(txn: Transaction) -> set[sa.Table]:
    """The rollups a pending change of the transaction's attributes moves."""
    state = sa.inspect(txn)
    return {
        table
        for name, tables in AFFECTS.items()
        if state.attrs[name].history.has_changes()
        for table in tables
    }


def tables_of(txn: Transaction) -> set[sa.Table]:
    """The rollups a transaction, new or going, counts in (payees: expenses only; tags: if it
    has any, when they are loaded)."""
    tables = {MT, FM}
    if txn.type == "expense":
        tables.add(PM)
    if "tag_rows" not in txn.__dict__ or txn.__dict__["tag_rows"]:
        tables.add(TM)
    return tables


def parent_id(part: TransactionSplit | TransactionTag) -> int | None:
    if part.transaction_id is not None:
        return part.transaction_id
    parent = getattr(part, "transaction", None)
    return parent.id if parent is not None else None


#: frozenset of table names -> the PostgreSQL statements adjusting them by transaction ids,
#: as one text: one round trip for a flush's rollups, not one per rollup.
_PG_BY_IDS: dict[frozenset[str], str] = {}


def pg_by_ids(tables: Sequence[sa.Table]) -> str:
    key = frozenset(table.name for table in tables)
    if key not in _PG_BY_IDS:
        dialect = postgresql.psycopg2.dialect()
        texts = []
        for table in tables:
            statement = adjusting(
                table,
                "postgresql",
                sa.literal_column("%(sign)s"),
                Transaction.id == func.any(sa.literal_column("%(ids)s")),
            )
            # Every other value is a constant of ours, written inline; the compiler doubles
            # the % of the two parameters, which psycopg2 then fills in.
            compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            texts.append(str(compiled).replace("%%", "%"))
        _PG_BY_IDS[key] = ";\n".join(texts)
    return _PG_BY_IDS[key]


def adjust_touched(connection: sa.Connection, sign: int, touched: dict) -> None:
    """Adjust each rollup (in TABLES' order) by the transactions touched in it."""
    tables = [table for table in TABLES if touched.get(table)]
    if connection.dialect.name == "postgresql" and all(len(touched[t]) <= 10_000 for t in tables):
        ids = {table: sorted(touched[table]) for table in tables}
        if len({tuple(v) for v in ids.values()}) == 1:
            # The same ids in each: one text, one round trip.
            connection.exec_driver_sql(pg_by_ids(tables), {"ids": ids[tables[0]], "sign": sign})
            return
    for table in tables:
        ids = sorted(touched[table])
        for start in range(0, len(ids), 10_000):
            connection.execute(
                by_ids(table, connection.dialect.name),
                {"ids": ids[start : start + 10_000], "sign": sign},
            )


#: The columns a transaction's contribution depends on (`contribute` reads them).
CONTRIBUTING = (
    "user_id",
    "date",
    "type",
    "account_id",
    "amount",
    "currency",
    "category_id",
    "payee",
    "transfer_account_id",
    "transfer_amount",
    "transfer_currency",
)


def without_parts(txn: Transaction) -> bool:
    """Whether the transaction has no splits and no tags, before this flush and after, as far
    as the session knows (both collections loaded: the ledger loads them known empty when
    none exist, and a new transaction starts with none): then its columns alone say what it
    contributes, and the hook adds that in Python instead of reading it back by SQL."""
    if "splits" not in txn.__dict__ or "tag_rows" not in txn.__dict__:
        return False
    if txn.splits or txn.tag_rows:
        return False
    state = sa.inspect(txn)
    return not (state.attrs.splits.history.deleted or state.attrs.tag_rows.history.deleted)


def committed(txn: Transaction) -> dict[str, Any] | None:
    """The contributing columns as the database holds them (before this flush), or None if
    one of them was never loaded."""
    state = sa.inspect(txn)
    values = {}
    for name in CONTRIBUTING:
        history = state.attrs[name].history
        if history.deleted:
            values[name] = history.deleted[0]
        elif history.unchanged:
            values[name] = history.unchanged[0]
        elif name in state.dict and not history.added:
            values[name] = state.dict[name]
        else:
            return None
    return values


def current(txn: Transaction) -> dict[str, Any]:
    """The contributing columns as the object holds them now (what `contribute` reads)."""
    return {name: getattr(txn, name) for name in CONTRIBUTING}


@event.listens_for(Session, "before_flush")
def take_out(session: Session, flush_context, instances) -> None:
    """Before the flush: take out what the transactions it changes or deletes contribute to
    the rollups those changes move, as the database holds them now (by SQL, after the flush
    put back by SQL too). A transaction without parts whose columns the session holds moves
    the rollups at once, by the difference computed in Python (no statement reads it)."""
    touched: dict[sa.Table, set[int]] = defaultdict(set)
    for obj in itertools.chain(session.deleted, session.dirty, session.new):
        if not isinstance(obj, TransactionSplit | TransactionTag):
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        touched[MT if isinstance(obj, TransactionSplit) else TM].add(parent_id(obj))
    by_parts = set().union(*touched.values())
    sums, moved = no_sums(), False
    for obj in session.deleted:
        if isinstance(obj, Transaction):
            old = committed(obj) if obj.id not in by_parts and without_parts(obj) else None
            if old is not None:
                contribute(sums, old, -1)
                moved = True
            else:
                for table in tables_of(obj):
                    touched[table].add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Transaction):
            tables = changed_tables(obj)
            if not tables:
                continue
            old = committed(obj) if obj.id not in by_parts and without_parts(obj) else None
            if old is not None:
                contribute(sums, old, -1)
                contribute(sums, current(obj))
                moved = True
            else:
                for table in tables:
                    touched[table].add(obj.id)
    python_new = set()
    for obj in session.new:
        if isinstance(obj, Transaction) and without_parts(obj):
            contribute(sums, current(obj))
            python_new.add(obj)
            moved = True
    for ids in touched.values():
        ids.discard(None)
    session.info["rollups_taken_out"] = touched
    session.info["rollups_added"] = python_new
    if moved:
        write(session.connection(), sums)
    if any(touched.values()):
        adjust_touched(session.connection(), -1, touched)


@event.listens_for(Session, "after_flush")
def put_back(session: Session, flush_context) -> None:
    """After it: add what those transactions, and the new ones, contribute now."""
    touched = session.info.pop("rollups_taken_out", None) or defaultdict(set)
    added = session.info.pop("rollups_added", None) or set()
    for obj in session.new:
        if isinstance(obj, Transaction) and obj not in added:
            for table in tables_of(obj):
                touched[table].add(obj.id)
    gone = {obj.id for obj in session.deleted if isinstance(obj, Transaction)}
    for ids in touched.values():
        ids.difference_update(gone)
    if any(touched.values()):
        adjust_touched(session.connection(), 1, touched)


# --- checking and repair -----------------------------------------------------------------------


def describe(table: str, key: dict[str, Any], column: str) -> str:
    """A rollup row named for a person: "month_totals 2026-01 expense category 5 amount"."""
    parts = [table, str(key["month"])[:7]]
    if "kind" in key:
        parts.append(key["kind"])
    if "category_id" in key:
        parts.append(f"category {key['category_id'] or 'none'}")
    if "payee" in key:
        parts.append(f"payee {key['payee']!r}")
    if "tag" in key:
        parts.append(f"tag {key['tag']!r}")
    parts.append(column)
    return " ".join(parts)


def verify(user_id: int | None = None) -> list[Discrepancy]:
    """Every rollup sum that is not what the rows contribute (a missing row counts as zero)."""
    wrong = []
    for table in TABLES:
        keys, values = KEYS[table.name], VALUES[table.name]
        kept_where = [] if user_id is None else [table.c.user_id == user_id]
        rows_where = [] if user_id is None else [Transaction.user_id == user_id]
        expected = contributions(table, *rows_where).subquery()
        kept = select(
            *(table.c[name] for name in keys),
            *(table.c[name].label(name) for name in values),
            *(literal(0, sa.BigInteger).label(f"x_{name}") for name in values),
        ).where(*kept_where)
        should = select(
            *(expected.c[name] for name in keys),
            *(literal(0, sa.BigInteger).label(name) for name in values),
            *(expected.c[name].label(f"x_{name}") for name in values),
        )
        both = union_all(kept, should).subquery()
        sums = [func.sum(both.c[name]) for name in values]
        sums_expected = [func.sum(both.c[f"x_{name}"]) for name in values]
        stmt = (
            select(*(both.c[name] for name in keys), *sums, *sums_expected)
            .group_by(*(both.c[name] for name in keys))
            .having(sa.or_(*(a != b for a, b in zip(sums, sums_expected, strict=True))))
        )
        for row in db.session.execute(stmt):
            key = dict(zip(keys, row[: len(keys)], strict=True))
            got = row[len(keys) : len(keys) + len(values)]
            right = row[len(keys) + len(values) :]
            for name, value, should_be in zip(values, got, right, strict=True):
                if value != should_be:
                    wrong.append(
                        Discrepancy(
                            key["account_id"],
                            key["user_id"],
                            key["currency"],
                            int(value),
                            int(should_be),
                            describe(table.name, key, name),
                            money=name != "count",
                        )
                    )
    return wrong


def rebuild(user_ids: Iterable[int]) -> None:
    """Recompute the users' rollups from their rows (the caller holds their accounts' locks)."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    connection = db.session.connection()
    for table in TABLES:
        connection.execute(sa.delete(table).where(table.c.user_id.in_(user_ids)))
    adjust(connection, 1, Transaction.user_id.in_(user_ids))
