"""monthly rollups for the reports, backfilled

month_totals (per user, month, account, kind, category, currency: the sum of amounts; kinds
income, expense, transfer_out, transfer_in; split parts in their own categories), payee_months
(expenses per payee: sum and count), flow_months (per account and kind: whole amounts,
for cashflow and net worth) and tag_months (income and expense per tag), kept by
app.ledger (app/ledger/rollups.py). Category 0 and payee '' stand for none. The backfill sums
every existing row as app.ledger.rollups.contributions does; `flask ledger verify` checks it.

Revision ID: 0020
Revises: 0010
Create Date: 2026-12-03 12:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0010"
branch_labels = None
depends_on = None


def key_columns(*extra: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        *extra,
        sa.Column("currency", sa.String(length=3), nullable=False),
    ]


def foreign_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
    ]


def upgrade():
    op.create_table(
        "month_totals",
        *key_columns(
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("category_id", sa.Integer(), autoincrement=False, nullable=False),
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        *foreign_keys("month_totals"),
        sa.PrimaryKeyConstraint(
            "user_id",
            "month",
            "account_id",
            "kind",
            "category_id",
            "currency",
            name=op.f("pk_month_totals"),
        ),
    )
    op.create_table(
        "flow_months",
        *key_columns(sa.Column("kind", sa.String(length=20), nullable=False)),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        *foreign_keys("flow_months"),
        sa.PrimaryKeyConstraint(
            "user_id", "month", "account_id", "kind", "currency", name=op.f("pk_flow_months")
        ),
    )
    op.create_table(
        "payee_months",
        *key_columns(sa.Column("payee", sa.String(length=200), nullable=False)),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        *foreign_keys("payee_months"),
        sa.PrimaryKeyConstraint(
            "user_id", "month", "account_id", "payee", "currency", name=op.f("pk_payee_months")
        ),
    )
    op.create_table(
        "tag_months",
        *key_columns(
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("tag", sa.String(length=50), nullable=False),
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        *foreign_keys("tag_months"),
        sa.PrimaryKeyConstraint(
            "user_id", "month", "account_id", "kind", "tag", "currency", name=op.f("pk_tag_months")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        month = "CAST(date_trunc('month', t.date) AS DATE)"
    else:
        month = "date(t.date, 'start of month')"
    op.execute(
        f"""
        INSERT INTO month_totals (user_id, month, account_id, kind, category_id, currency, amount)
        SELECT user_id, month, account_id, kind, category_id, currency, SUM(amount) FROM (
            SELECT t.user_id, {month} AS month, t.account_id, t.type AS kind,
                COALESCE(CASE WHEN s.id IS NOT NULL THEN s.category_id ELSE t.category_id END, 0)
                    AS category_id,
                t.currency, CASE WHEN s.id IS NOT NULL THEN s.amount ELSE t.amount END AS amount
            FROM transactions t LEFT JOIN transaction_splits s ON s.transaction_id = t.id
            WHERE t.type IN ('income', 'expense')
            UNION ALL
            SELECT t.user_id, {month}, t.account_id, 'transfer_out', 0, t.currency, t.amount
            FROM transactions t WHERE t.type = 'transfer'
            UNION ALL
            SELECT t.user_id, {month}, t.transfer_account_id, 'transfer_in', 0,
                t.transfer_currency, t.transfer_amount
            FROM transactions t WHERE t.type = 'transfer'
        ) AS lines
        GROUP BY user_id, month, account_id, kind, category_id, currency
        """
    )
    op.execute(
        f"""
        INSERT INTO flow_months (user_id, month, account_id, kind, currency, amount)
        SELECT user_id, month, account_id, kind, currency, SUM(amount) FROM (
            SELECT t.user_id, {month} AS month, t.account_id, t.type AS kind, t.currency,
                t.amount
            FROM transactions t WHERE t.type IN ('income', 'expense')
            UNION ALL
            SELECT t.user_id, {month}, t.account_id, 'transfer_out', t.currency, t.amount
            FROM transactions t WHERE t.type = 'transfer'
            UNION ALL
            SELECT t.user_id, {month}, t.transfer_account_id, 'transfer_in',
                t.transfer_currency, t.transfer_amount
            FROM transactions t WHERE t.type = 'transfer'
        ) AS sides
        GROUP BY user_id, month, account_id, kind, currency
        """
    )
    op.execute(
        f"""
        INSERT INTO payee_months (user_id, month, account_id, payee, currency, amount, count)
        SELECT t.user_id, {month}, t.account_id, COALESCE(t.payee, ''), t.currency,
            SUM(t.amount), COUNT(*)
        FROM transactions t WHERE t.type = 'expense'
        GROUP BY t.user_id, {month}, t.account_id, COALESCE(t.payee, ''), t.currency
        """
    )
    op.execute(
        f"""
        INSERT INTO tag_months (user_id, month, account_id, kind, tag, currency, amount)
        SELECT t.user_id, {month}, t.account_id, t.type, g.tag, t.currency, SUM(t.amount)
        FROM transactions t JOIN transaction_tags g ON g.transaction_id = t.id
        WHERE t.type IN ('income', 'expense')
        GROUP BY t.user_id, {month}, t.account_id, t.type, g.tag, t.currency
        """
    )


def downgrade():
    op.drop_table("tag_months")
    op.drop_table("payee_months")
    op.drop_table("flow_months")
    op.drop_table("month_totals")
