"""users.username_skeleton

What a username looks like (its UTS #39 skeleton, app.users.models.username_skeleton), unique,
so that a look-alike of a taken name ("рtenyccb" with a Cyrillic р beside "ptenyccb") is
refused, also when two registrations race. Backfilled here: of existing users whose names look
alike, the first registered keeps the skeleton and the others get NULL (they keep their names;
a new look-alike of any of them is still refused through the first). Written by hand; the batch
operation keeps it working on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00

"""
import sqlalchemy as sa
from alembic import op

from app.users.models import username_skeleton

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_skeleton', sa.Text(), nullable=True))
    connection = op.get_bind()
    users = sa.table(
        'users', sa.column('id'), sa.column('username'), sa.column('username_skeleton')
    )
    seen = set()
    for user_id, username in connection.execute(
        sa.select(users.c.id, users.c.username).order_by(users.c.id)
    ):
        skeleton = username_skeleton(username)
        if skeleton not in seen:
            seen.add(skeleton)
            connection.execute(
                users.update().where(users.c.id == user_id).values(username_skeleton=skeleton)
            )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_users_username_skeleton'), ['username_skeleton']
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_username_skeleton'), type_='unique')
        batch_op.drop_column('username_skeleton')
