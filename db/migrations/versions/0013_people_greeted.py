"""whether a person has been greeted by /start

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 20:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(
            sa.Column("greeted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Everyone already here has, most likely, been greeted: "welcome back" stays theirs.
    op.execute(sa.text("UPDATE people SET greeted = :yes").bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("greeted")
