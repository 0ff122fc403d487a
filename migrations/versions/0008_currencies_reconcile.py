"""Cross-currency transfers, reconciliation, exchange rates and a base currency

- transactions.transfer_amount / transfer_currency: a transfer's destination side, in the
  destination account's currency (backfilled: every existing transfer is between accounts of
  one currency, so it equals amount);
- transactions.status / transfer_status: pending, cleared or reconciled, for each side
  (backfilled: imported rows, those with an import_id, are cleared; the others pending);
- accounts.cleared_balance / reconciled_balance, kept by app.ledger like balance (backfilled
  from the statuses above: nothing is reconciled yet);
- users.base_currency and the exchange_rates table.

CHECK constraints written by hand; the batch operations keep it working on SQLite.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-03 09:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None

MAX_AMOUNT_MINOR = 10**14
MAX_BALANCE_MINOR = 9 * 10**17
STATUSES = "('pending', 'cleared', 'reconciled')"


def upgrade():
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("transfer_currency", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("transfer_status", sa.String(length=20), nullable=True))
    op.execute("UPDATE transactions SET status = 'cleared' WHERE import_id IS NOT NULL")
    op.execute(
        "UPDATE transactions SET transfer_amount = amount, transfer_currency = currency,"
        " transfer_status = status WHERE type = 'transfer'"
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_transactions_transaction_status"), f"status IN {STATUSES}"
        )
        batch_op.create_check_constraint(
            op.f("ck_transactions_transaction_transfer_status"), f"transfer_status IN {STATUSES}"
        )
        batch_op.create_check_constraint(
            op.f("ck_transactions_transfer_side"),
            "(type = 'transfer' AND transfer_amount IS NOT NULL AND transfer_currency IS NOT NULL"
            " AND transfer_status IS NOT NULL AND transfer_amount > 0"
            f" AND transfer_amount < {MAX_AMOUNT_MINOR})"
            " OR (type <> 'transfer' AND transfer_amount IS NULL AND transfer_currency IS NULL"
            " AND transfer_status IS NULL)",
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cleared_balance", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reconciled_balance", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.execute(
        "UPDATE accounts SET reconciled_balance = opening_balance, cleared_balance ="
        " opening_balance"
        " + COALESCE((SELECT SUM(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END)"
        " FROM transactions t WHERE t.account_id = accounts.id AND t.status = 'cleared'), 0)"
        " + COALESCE((SELECT SUM(t.transfer_amount) FROM transactions t"
        " WHERE t.transfer_account_id = accounts.id AND t.transfer_status = 'cleared'), 0)"
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_accounts_status_balances_range"),
            f"cleared_balance >= -{MAX_BALANCE_MINOR} AND cleared_balance <= {MAX_BALANCE_MINOR}"
            f" AND reconciled_balance >= -{MAX_BALANCE_MINOR}"
            f" AND reconciled_balance <= {MAX_BALANCE_MINOR}",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_currency", sa.String(length=3), nullable=True))

    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("base <> quote", name=op.f("ck_exchange_rates_distinct_currencies")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_exchange_rates_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint(
            "user_id", "base", "quote", "date", name="uq_exchange_rates_user_id_base_quote_date"
        ),
    )


def downgrade():
    op.drop_table("exchange_rates")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("base_currency")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_accounts_status_balances_range"), type_="check")
        batch_op.drop_column("reconciled_balance")
        batch_op.drop_column("cleared_balance")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_transactions_transfer_side"), type_="check")
        batch_op.drop_constraint(op.f("ck_transactions_transaction_transfer_status"), type_="check")
        batch_op.drop_constraint(op.f("ck_transactions_transaction_status"), type_="check")
        batch_op.drop_column("transfer_status")
        batch_op.drop_column("status")
        batch_op.drop_column("transfer_currency")
        batch_op.drop_column("transfer_amount")
