"""recurring transfers between currencies: the template's destination side

recurring_transactions.transfer_amount / transfer_currency: what arrives at a transfer's
destination each time, in its currency (as on a transaction); existing transfer schedules (one
currency, the only kind allowed before) get their amount. The CHECK says a transfer has one
and the others none.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 12:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

MAX_AMOUNT_MINOR = 10**14


def upgrade():
    with op.batch_alter_table("recurring_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("transfer_currency", sa.String(length=3), nullable=True))
    op.execute(
        "UPDATE recurring_transactions SET transfer_amount = amount, transfer_currency = currency"
        " WHERE type = 'transfer'"
    )
    with op.batch_alter_table("recurring_transactions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_recurring_transactions_transfer_side"),
            "(type = 'transfer' AND transfer_amount IS NOT NULL AND transfer_currency IS NOT NULL"
            f" AND transfer_amount > 0 AND transfer_amount < {MAX_AMOUNT_MINOR})"
            " OR (type <> 'transfer' AND transfer_amount IS NULL AND transfer_currency IS NULL)",
        )


def downgrade():
    with op.batch_alter_table("recurring_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_recurring_transactions_transfer_side"), type_="check")
        batch_op.drop_column("transfer_currency")
        batch_op.drop_column("transfer_amount")
