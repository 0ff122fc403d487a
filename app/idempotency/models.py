"""The IdempotencyKey model: one stored response per (user, Idempotency-Key)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import UTCDateTime, utcnow
from app.extensions import db


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    #: sha256 of method, path and body: the same key with another request is a 422.
    fingerprint: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    #: Written in the same database transaction as the request's own changes, so another
    #: transaction never sees them empty; empty means "still running" (a 409 on retry).
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    #: Keys expire 24 hours after this; `flask prune-idempotency-keys` deletes them.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.user_id} {self.key!r} {self.status_code}>"
