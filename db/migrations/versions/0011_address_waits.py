"""address waits: supporters who asked to hear when a card can be sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address_waits",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("person_id", "case_id"),
    )
    op.create_index("ix_address_waits_case_id", "address_waits", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_address_waits_case_id", table_name="address_waits")
    op.drop_table("address_waits")
