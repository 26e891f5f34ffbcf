"""letter facts and checker terms

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:38:53.965562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "check_terms",
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("advice", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("locale", "term"),
    )
    with op.batch_alter_table("case_texts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_rules", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("topics", sa.Text(), nullable=True))

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("born_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("release_expected_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("letter_locale", sa.String(length=8), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("letter_locale")
        batch_op.drop_column("release_expected_on")
        batch_op.drop_column("born_on")

    with op.batch_alter_table("case_texts", schema=None) as batch_op:
        batch_op.drop_column("topics")
        batch_op.drop_column("letter_rules")

    op.drop_table("check_terms")
