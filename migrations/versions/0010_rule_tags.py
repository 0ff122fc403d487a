"""rules add tags

- rule_tags (rule_id, tag): the tags a rule adds to the transactions it matches, each once
  (the primary key), gone with the rule (ON DELETE CASCADE);
- rules.category_id becomes nullable: a rule may add tags only (app.rules refuses one that sets
  neither a category nor a tag; a CHECK cannot see the other table).

The batch operations keep it working on SQLite. Downgrading deletes the tag-only rules (they
cannot be kept without a category) and every rule's tags.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03 11:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rule_tags",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rules.id"], name=op.f("fk_rule_tags_rule_id_rules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rule_id", "tag", name=op.f("pk_rule_tags")),
    )
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.alter_column("category_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM rules WHERE category_id IS NULL")
    with op.batch_alter_table("rules", schema=None) as batch_op:
        batch_op.alter_column("category_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("rule_tags")
