"""check terms per country, and the version of the shipped lists each language has had

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("check_terms") as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    op.create_table(
        "check_term_seeds",
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("locale"),
    )


def downgrade() -> None:
    op.drop_table("check_term_seeds")
    with op.batch_alter_table("check_terms") as batch_op:
        batch_op.drop_column("country")
