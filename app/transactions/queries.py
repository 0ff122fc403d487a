"""The transaction list: filters and sort order, scoped to the caller.

Paging is app.common.pagination's.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select

from app.common import money
from app.transactions.models import Transaction

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
    stmt = select(t).where(t.user_id == user_id)
    if "start_date" in args:
        stmt = stmt.where(t.date >= args["start_date"])
    if "end_date" in args:
        stmt = stmt.where(t.date <= args["end_date"])
    if "category_id" in args:
        stmt = stmt.where(t.category_id == args["category_id"])
    if args.get("uncategorized"):
        stmt = stmt.where(t.category_id.is_(None))
    if "currency" in args:
        stmt = stmt.where(t.currency == args["currency"])
    if "transaction_type" in args:
        stmt = stmt.where(t.type == args["transaction_type"])
    if "account_id" in args:
        account_id = args["account_id"]
        stmt = stmt.where(or_(t.account_id == account_id, t.transfer_account_id == account_id))
    if "status" in args:
        status = args["status"]
        if "account_id" in args:
            # The status of the listed account's side.
            stmt = stmt.where(
                or_(
                    (t.account_id == args["account_id"]) & (t.status == status),
                    (t.transfer_account_id == args["account_id"]) & (t.transfer_status == status),
                )
            )
        else:
            stmt = stmt.where(or_(t.status == status, t.transfer_status == status))
    # Amounts compare on the source side (amount_scaled): a transfer's transfer_amount, in the
    # destination's currency, is not filtered or sorted on.
    if "min_amount" in args:
        bound = money.decimal_to_common_scale(args["min_amount"], round_up=True)
        stmt = stmt.where(t.amount_scaled >= bound)
    if "max_amount" in args:
        bound = money.decimal_to_common_scale(args["max_amount"], round_up=False)
        stmt = stmt.where(t.amount_scaled <= bound)
    if "q" in args:
        pattern = f"%{escape_like(args['q'])}%"
        stmt = stmt.where(
            or_(t.description.ilike(pattern, escape="\\"), t.payee.ilike(pattern, escape="\\"))
        )
    return stmt


def sort_order(args: dict) -> tuple[ColumnElement, ColumnElement]:
    """`sort_by` in `order`, ties broken by id in the same direction: pages never overlap."""
    column = SORT_COLUMNS[args["sort_by"]]
    if args["order"] == "asc":
        return column.asc(), Transaction.id.asc()
    return column.desc(), Transaction.id.desc()
