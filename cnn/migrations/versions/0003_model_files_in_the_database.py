"""Saved models' files live in the database: a server on another host needs no shared models folder.

- ``blobs``: content-addressed bytes (SHA-256 of the content), shared by every row that names them.
- ``models.blob``: the ``.keras`` file of a saved model (NULL for a model deleted, or indexed before this
  revision and not yet imported: its server imports it from its folder at start).
- ``models.detail``: the large part of its metadata (the batch curve), read only with one model.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("blobs", sa.Column("sha256", sa.Text(), primary_key=True),
                    sa.Column("size", sa.BigInteger(), nullable=False),
                    sa.Column("data", sa.LargeBinary(), nullable=False))
    op.add_column("models", sa.Column("blob", sa.Text(), nullable=True))
    op.add_column("models", sa.Column("detail", sa.Text(), nullable=False, server_default="{}"))
    # Rows indexed before (files the truth) come back from their folder at the next start of their server.
    op.execute("DELETE FROM settings WHERE key LIKE 'imported:%'")


def downgrade() -> None:
    with op.batch_alter_table("models") as batch:
        batch.drop_column("detail")
        batch.drop_column("blob")
    op.drop_table("blobs")
