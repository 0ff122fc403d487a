"""The one pager: skip/limit over a SELECT, total in the X-Total-Count header."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from app.extensions import db

TOTAL_COUNT_HEADER = {
    "X-Total-Count": {
        "description": "How many items match, over all pages.",
        "schema": {"type": "integer"},
    }
}


def paginate(stmt: Select, skip: int, limit: int) -> tuple[list[Any], dict[str, str]]:
    """One page of `stmt` (already ordered) and the headers that carry the total."""
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = db.session.scalar(count_stmt)
    items = db.session.scalars(stmt.offset(skip).limit(limit)).all() if limit else []
    return list(items), {"X-Total-Count": str(total)}
