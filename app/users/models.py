"""The User model."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import UTCDateTime, utcnow
from app.common.text import fold, skeleton
from app.extensions import db


def canonical_username(username: str) -> str:
    """NFKC + casefold: "ÉVA" and "éva" are one user (SQL lower() folds only ASCII on SQLite)."""
    return fold(username)


def username_skeleton(username: str) -> str:
    """What a username looks like (UTS #39 skeleton of its canonical form): "рtenyccb" with a
    Cyrillic р, "ptenyccb" and "PTENYCCB" share one, so only the first to register gets it."""
    return skeleton(canonical_username(username))


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    username_canonical: Mapped[str] = mapped_column(sa.String(256), nullable=False, unique=True)
    #: username_skeleton(username). NULL only for users whose name looked like an older user's
    #: when this column came (migration 0004); unique: look-alikes are refused even when two
    #: registrations race.
    username_skeleton: Mapped[str | None] = mapped_column(sa.Text, unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    password_hash: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    # Bumped on password change: every token carrying an older version stops working.
    token_version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: How many transactions the user has, kept by app.ledger in the same database
    #: transaction as the rows: the unfiltered list's X-Total-Count without counting a million.
    transaction_count: Mapped[int] = mapped_column(
        sa.BigInteger, nullable=False, default=0, server_default="0"
    )

    #: The currency reports convert into when asked for none (`in=`); null for none.
    base_currency: Mapped[str | None] = mapped_column(sa.String(3))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"
