"""Teacher grants hold nothing derived from the passphrase; passphrase attempts and the language live here.

- ``teacher_grants``: signed by an HMAC keyed with the server's secret (``CNN_SECRET_KEY``, never in the
  database) over the identity, the expiry and the passphrase's hash, so a copy of the database lets nobody
  try passphrases offline, and a new passphrase still revokes every grant. One row per identity and server
  key (``key_id``, a hash of the key), so servers whose admin gave them different keys do not undo each
  other's grants. Grants made before (HMACs keyed by the passphrase itself) are dropped: the teacher types
  the passphrase once more.
- ``attempts``: wrong passphrase attempts, per identity and for the class, so every server and every
  "Start fresh" counts against the same limit.
- ``identities.language``: the language a student picked, on every server.
- ``settings.schema_version`` becomes 2, so a CNN Lab from before Alembic refuses this database.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("teacher_grants")
    op.execute("CREATE TABLE teacher_grants (identity TEXT NOT NULL, key_id TEXT NOT NULL, expires DOUBLE PRECISION "
               "NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (identity, key_id))")
    op.execute("CREATE TABLE attempts (scope TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)")
    op.execute("CREATE INDEX attempts_scope ON attempts (scope, at)")
    op.add_column("identities", sa.Column("language", sa.Text(), nullable=False, server_default=""))
    op.execute("UPDATE settings SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_column("identities", "language")
    op.drop_table("attempts")
    op.drop_table("teacher_grants")
    op.execute("CREATE TABLE teacher_grants (identity TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL, "
               "signature TEXT NOT NULL)")
    op.execute("UPDATE settings SET value = '1' WHERE key = 'schema_version'")
