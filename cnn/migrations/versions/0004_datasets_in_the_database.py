"""Students' datasets live in the database: their description and every example image (a small PNG each).

- ``datasets``: the image shape, when it was made, and a version that every change moves on (a cache key).
- ``dataset_examples``: one row per example (its id, class, PNG bytes, when it was added).

A server imports the dataset folders it holds (``CNN_USER_DATA_DIR``) at its next start.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("image_shape", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("datasets", sa.Column("created", sa.Text(), nullable=False, server_default=""))
    op.add_column("datasets", sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table("dataset_examples", sa.Column("dataset", sa.Text(), primary_key=True),
                    sa.Column("id", sa.Text(), primary_key=True), sa.Column("class_name", sa.Text(), nullable=False),
                    sa.Column("png", sa.LargeBinary(), nullable=False),
                    sa.Column("added", sa.Float(precision=53), nullable=False))
    op.create_index("dataset_examples_class", "dataset_examples", ["dataset", "class_name", "added"])
    op.execute("DELETE FROM datasets")  # rows of an index of folders: each server imports its folders again
    op.execute("DELETE FROM settings WHERE key LIKE 'imported:%'")


def downgrade() -> None:
    op.drop_index("dataset_examples_class", "dataset_examples")
    op.drop_table("dataset_examples")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("version")
        batch.drop_column("created")
        batch.drop_column("image_shape")
