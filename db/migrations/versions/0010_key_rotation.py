"""key rotation: sealed panic words, the state of a rotation under way, running processes

A panic word set before this revision stays a keyed hash (people.panic_hash) until the
person sets a word again; a rotation of DATA_KEY cannot carry such a word.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("panic_seal", sa.LargeBinary(length=96), nullable=True))
    op.create_table(
        "key_rotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("audit_done", sa.Integer(), nullable=False),
        sa.Column("broadcasts_done", sa.Integer(), nullable=False),
        sa.Column("updates_done", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "running_processes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("seen_at", db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("running_processes")
    op.drop_table("key_rotation")
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("panic_seal")
