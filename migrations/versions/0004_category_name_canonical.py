"""categories.name_canonical: category names unique per user ignoring case

The folded name (NFKC + casefold, app.common.text.fold) beside the name, with the unique
constraint moved onto it. Backfilled in Python (SQLite's lower() folds ASCII only). Names that
clash once folded ("Food" and "food") keep the first and number the others ("food (2)"), so
the upgrade never fails on existing data. Written by hand; batch operations keep it working
on SQLite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 09:30:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

categories = sa.table(
    'categories',
    sa.column('id', sa.Integer),
    sa.column('user_id', sa.Integer),
    sa.column('name', sa.String),
    sa.column('name_canonical', sa.String),
)


def fold(text):
    # A copy of app.common.text.fold as it was when this migration was written.
    return unicodedata.normalize('NFKC', text).casefold()


def upgrade():
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_canonical', sa.String(length=400), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(categories.c.id, categories.c.user_id, categories.c.name).order_by(
            categories.c.id
        )
    ).all()
    taken = set()
    for row in rows:
        name, number = row.name, 1
        while (row.user_id, fold(name)) in taken:
            number += 1
            name = f'{row.name[:90]} ({number})'
        taken.add((row.user_id, fold(name)))
        connection.execute(
            categories.update()
            .where(categories.c.id == row.id)
            .values(name=name, name_canonical=fold(name))
        )
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.alter_column('name_canonical', existing_type=sa.String(length=400), nullable=False)
        batch_op.drop_constraint('uq_categories_user_id_name', type_='unique')
        batch_op.create_unique_constraint(
            'uq_categories_user_id_name_canonical', ['user_id', 'name_canonical']
        )


def downgrade():
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_constraint('uq_categories_user_id_name_canonical', type_='unique')
        batch_op.create_unique_constraint('uq_categories_user_id_name', ['user_id', 'name'])
        batch_op.drop_column('name_canonical')
