"""Column types and helpers that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no offset; PostgreSQL's timestamptz does. Either way we hand back UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None:
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value


def enum_column(*values: str, name: str) -> sa.Enum:
    """A string enum with a CHECK constraint instead of a native PostgreSQL enum.

    Native enums break `downgrade` and are awkward to extend; SQLite has none.
    """
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


def analyse(session, *tables: str) -> None:
    """Fresh planner statistics for `tables` after a bulk load, inside the caller's transaction
    (ANALYZE counts its own uncommitted rows). PostgreSQL plans on these numbers and autovacuum
    may be off or late; SQLite is left alone (its planner does without)."""
    if session.get_bind().dialect.name == "postgresql":
        for table in tables:
            session.execute(sa.text(f"ANALYZE {table}"))
