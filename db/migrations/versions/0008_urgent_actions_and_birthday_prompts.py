"""urgent actions and birthday prompts

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 03:37:42.856262
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "actions_taken",
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["update_id"], ["case_updates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("update_id", "person_id"),
    )
    with op.batch_alter_table("actions_taken", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actions_taken_person_id"), ["person_id"], unique=False)

    with op.batch_alter_table("case_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline", db.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("action_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_updates_action_id"), ["action_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_case_updates_action_id", "case_updates", ["action_id"], ["id"], ondelete="CASCADE"
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        # Existing people have not opted in.
        batch_op.add_column(
            sa.Column("birthday_prompts", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("birthday_prompts")

    with op.batch_alter_table("case_updates", schema=None) as batch_op:
        batch_op.drop_constraint("fk_case_updates_action_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_case_updates_action_id"))
        batch_op.drop_column("action_id")
        batch_op.drop_column("deadline")

    with op.batch_alter_table("actions_taken", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actions_taken_person_id"))

    op.drop_table("actions_taken")
