"""sent messages and panic word

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 01:40:05.639819
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "sent_messages",
        sa.Column("chat_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sent_at", db.types.UTCDateTime(), nullable=False),
        sa.Column("delete_at", db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("chat_index", "message_id"),
    )
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_messages_delete_at"), ["delete_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sent_messages_sent_at"), ["sent_at"], unique=False)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("panic_hash", sa.LargeBinary(length=32), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("panic_hash")

    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_messages_sent_at"))
        batch_op.drop_index(batch_op.f("ix_sent_messages_delete_at"))

    op.drop_table("sent_messages")
