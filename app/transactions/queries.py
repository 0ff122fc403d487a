"""The transaction list: filters and sort order, scoped to the caller.

Paging is app.common.pagination's. Building a statement queries nothing, except whether the
caller has split parts in a category they filter by (see list_stmt).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select, union

from app.common import money
from app.extensions import db
from app.transactions.models import Transaction, TransactionSplit, TransactionTag

SORT_COLUMNS = {"date": Transaction.date, "amount": Transaction.amount_scaled}


#: Query arguments that are not filters: paging and sorting.
NOT_FILTERS = {"skip", "limit", "sort_by", "order"}


def is_unfiltered(args: dict) -> bool:
    filters = {key: value for key, value in args.items() if key not in NOT_FILTERS}
    return not filters or filters == {"uncategorized": False}


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_stmt(user_id: int, args: dict) -> Select:
    """The caller's transactions matching `args` (TransactionQueryArgsSchema); see sort_order."""
    t = Transaction
    where = filters(user_id, args)
    if "category_id" not in args:
        return select(t).where(*where)
    # Its own category, or one of its parts': as two branches, each with every other filter
    # pushed in, so that each can use its category index (ix_transactions_user_id_category_id_date,
    # and the splits' own). One `category_id = c OR id IN (parts)` made PostgreSQL walk the whole
    # sort index instead, filtering row by row: 1.2 s on a million transactions against 34 ms.
    # Without parts in the category, only the first branch can match: then it is the plain
    # filter (15 ms there; the union's re-reading of the matching rows to sort them, 35 ms).
    category = args["category_id"]
    if not has_parts_in(user_id, category):
        # The common case, answered as the plain filter it then is.
        return select(t).where(*where, t.category_id == category)
    own = select(t.id).where(*where, t.category_id == category)
    in_part = (
        select(t.id)
        .join(TransactionSplit, TransactionSplit.transaction_id == t.id)
        .where(
            *where, TransactionSplit.user_id == user_id, TransactionSplit.category_id == category
        )
    )
    return select(t).where(t.user_id == user_id, t.id.in_(union(own, in_part)))


def has_parts_in(user_id: int, category_id: int) -> bool:
    """Whether any split transaction of the user has a part in the category (an index probe)."""
    split = TransactionSplit
    # On the connection: a yes or no needs none of the ORM's result machinery.
    return db.session.connection().scalar(
        select(exists().where(split.user_id == user_id, split.category_id == category_id))
    )


def filters(user_id: int, args: dict) -> list[ColumnElement]:
    """The conditions of every filter in `args` but category_id (see list_stmt)."""
    t = Transaction
    where = [t.user_id == user_id]
    if "start_date" in args:
        where.append(t.date >= args["start_date"])
    if "end_date" in args:
        where.append(t.date <= args["end_date"])
    if args.get("uncategorized"):
        # No category, and not split into categorised parts only.
        split = TransactionSplit
        all_parts_categorised = (
            select(split.transaction_id)
            .where(split.user_id == user_id)
            .group_by(split.transaction_id)
            .having(func.count(split.category_id) == func.count())
        )
        where += [t.category_id.is_(None), t.id.not_in(all_parts_categorised)]
    if "tag" in args:
        tagged = select(TransactionTag.transaction_id).where(
            TransactionTag.user_id == user_id, TransactionTag.tag.in_(args["tag"])
        )
        where.append(t.id.in_(tagged))
    if "currency" in args:
        where.append(t.currency == args["currency"])
    if "transaction_type" in args:
        where.append(t.type == args["transaction_type"])
    if "account_id" in args:
        account_id = args["account_id"]
        where.append(or_(t.account_id == account_id, t.transfer_account_id == account_id))
    if "status" in args:
        status = args["status"]
        if "account_id" in args:
            # The status of the listed account's side.
            where.append(
                or_(
                    (t.account_id == args["account_id"]) & (t.status == status),
                    (t.transfer_account_id == args["account_id"]) & (t.transfer_status == status),
                )
            )
        else:
            where.append(or_(t.status == status, t.transfer_status == status))
    # Amounts compare on the source side (amount_scaled): a transfer's transfer_amount, in the
    # destination's currency, is not filtered or sorted on.
    if "min_amount" in args:
        bound = money.decimal_to_common_scale(args["min_amount"], round_up=True)
        where.append(t.amount_scaled >= bound)
    if "max_amount" in args:
        bound = money.decimal_to_common_scale(args["max_amount"], round_up=False)
        where.append(t.amount_scaled <= bound)
    if "q" in args:
        pattern = f"%{escape_like(args['q'])}%"
        where.append(
            or_(t.description.ilike(pattern, escape="\\"), t.payee.ilike(pattern, escape="\\"))
        )
    return where


def sort_order(args: dict) -> tuple[ColumnElement, ColumnElement]:
    """`sort_by` in `order`, ties broken by id in the same direction: pages never overlap."""
    column = SORT_COLUMNS[args["sort_by"]]
    if args["order"] == "asc":
        return column.asc(), Transaction.id.asc()
    return column.desc(), Transaction.id.desc()


def category_lines(*where: ColumnElement) -> Select:
    """SELECT currency, type, category_id, amount: one line per transaction matching `where`,
    or one per part of a split transaction, each in its own category. The reports and the
    budgets total categories from these lines."""
    t, split = Transaction, TransactionSplit
    is_split = split.id.is_not(None)
    return (
        select(
            t.currency.label("currency"),
            t.type.label("type"),
            t.date.label("date"),
            case((is_split, split.category_id), else_=t.category_id).label("category_id"),
            case((is_split, split.amount), else_=t.amount).label("amount"),
        )
        .select_from(t)
        .outerjoin(split, split.transaction_id == t.id)
        .where(*where)
    )
