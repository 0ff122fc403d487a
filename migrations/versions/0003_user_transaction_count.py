"""users.transaction_count

The number of transactions a user has, maintained by the application in the same database
transaction as the rows, so that the unfiltered transaction list's X-Total-Count does not count
a million rows. Backfilled from the existing rows. Written by hand (one column and one UPDATE);
the batch operation keeps it working on SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 23:25:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('transaction_count', sa.BigInteger(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE users SET transaction_count ="
        " (SELECT count(*) FROM transactions WHERE transactions.user_id = users.id)"
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('transaction_count')
