"""categorisation rules

The rules table (app.rules.models.Rule): a pattern (contains or regex) on description, payee or
either, an optional amount range on the transactions' common scale, and the category it gives;
the rule goes with its category and its user (ON DELETE CASCADE). Written by hand after
autogenerate: the enums' CHECKs and the ordered-range CHECK are spelled out; the batch
operations keep it working on SQLite.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.common.db import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.Enum('any', 'description', 'payee', name='rule_field', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('match', sa.Enum('contains', 'regex', name='rule_match', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('min_amount_scaled', sa.BigInteger(), nullable=True),
    sa.Column('max_amount_scaled', sa.BigInteger(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint('min_amount_scaled IS NULL OR max_amount_scaled IS NULL OR min_amount_scaled <= max_amount_scaled', name=op.f('ck_rules_amount_range_ordered')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_rules_category_id_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_rules_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rules'))
    )
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rules_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_rules_user_id_priority_id', ['user_id', 'priority', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('rules', schema=None) as batch_op:
        batch_op.drop_index('ix_rules_user_id_priority_id')
        batch_op.drop_index(batch_op.f('ix_rules_category_id'))

    op.drop_table('rules')
