"""The ExchangeRate model: one user's rate for a currency pair on a date."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.common.db import TimestampMixin
from app.extensions import db


class ExchangeRate(TimestampMixin, db.Model):
    """1 `base` = `rate` `quote`, from `date` until the pair's next rate."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id", "base", "quote", "date", name="uq_exchange_rates_user_id_base_quote_date"
        ),
        sa.CheckConstraint("base <> quote", name="distinct_currencies"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    base: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    quote: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: The exact decimal string as normalised on the way in ("0.9215"): text, because SQLite
    #: would keep a NUMERIC as a float.
    rate: Mapped[str] = mapped_column(sa.String(40), nullable=False)

    def __repr__(self) -> str:
        return f"<ExchangeRate {self.base}/{self.quote} {self.date} {self.rate}>"
