"""Column types and helpers that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

import select
from datetime import UTC, datetime

import sqlalchemy as sa
from psycopg2.extensions import connection as PsycopgConnection  # noqa: N812 - a class
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


def drop_closed_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """A pool "checkout" listener: a connection the server closed while it sat in the pool is
    replaced before a request uses it, and the pool's other connections of that age with it
    (a restart closed them all).

    An idle connection receives nothing from PostgreSQL; if its socket has become readable,
    what arrived is the server's goodbye (a FATAL "terminating connection" and end of file:
    a restart, pg_terminate_backend, PgBouncer or a proxy closing it). A zero-timeout poll of
    the socket tells, without the round trip that SQLAlchemy's pool_pre_ping spends on every
    checkout ("SELECT 1": a quarter of the round trips of a one-query request).
    """
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:  # SQLite: no server to close it
        return
    if getattr(dbapi_connection, "closed", False):
        raise sa.exc.InvalidatePoolError("the connection was closed")
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except (OSError, ValueError) as error:  # no socket any more
        raise sa.exc.InvalidatePoolError(str(error)) from None
    if readable:
        raise sa.exc.InvalidatePoolError("the server closed the connection")


#: Marks, on a pooled connection's record, that `outside_a_transaction` switched it.
OUTSIDE = "outside_a_transaction"


def outside_a_transaction(connection: sa.Connection) -> None:
    """Let the statements of this pooled connection run outside a transaction until it goes
    back to the pool (psycopg2's autocommit; `in_transactions_again` restores it there).

    SQLAlchemy's isolation_level="AUTOCOMMIT" would do the same through psycopg2's
    set_isolation_level, which sends a statement when it is undone: one of the two round
    trips saved spent again. The autocommit flag is the client's alone."""
    dbapi_connection = connection.connection.driver_connection
    if isinstance(dbapi_connection, PsycopgConnection):  # SQLite has no round trips to save
        dbapi_connection.autocommit = True
        connection.info[OUTSIDE] = True  # the pool record's: only these are put back


def in_transactions_again(dbapi_connection, connection_record) -> None:
    """A pool "checkin" listener: a connection comes back from `outside_a_transaction` in the
    mode every other request expects, one transaction per request. Only those: an engine made
    with isolation_level="AUTOCOMMIT" (CREATE/DROP DATABASE in tests and tools) keeps its mode,
    since the listener sees every pool in the process."""
    if connection_record.info.pop(OUTSIDE, False):
        dbapi_connection.autocommit = False
