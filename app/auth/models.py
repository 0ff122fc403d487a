"""Revoked tokens: a table, so revocation survives restarts and holds across workers."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import UTCDateTime
from app.extensions import db


class RevokedToken(db.Model):
    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: When the token would have expired anyway; rows past it can be pruned.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
