"""The schema of CNN Lab's first class database (before Alembic: settings.schema_version 1).

Kept statement for statement, so a database made then is exactly this revision (it is stamped, not rebuilt).

Revision ID: 0001
Revises:
"""
from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Portable SQL (SQLite and PostgreSQL): TEXT, INTEGER, DOUBLE PRECISION; JSON stored as TEXT.
SCHEMA_V1 = [
    """CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS identities (
        id TEXT PRIMARY KEY, token_hash TEXT UNIQUE NOT NULL, name TEXT NOT NULL DEFAULT '',
        created DOUBLE PRECISION NOT NULL, seen DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS teacher_grants (
        identity TEXT PRIMARY KEY, expires DOUBLE PRECISION NOT NULL, signature TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, label TEXT UNIQUE NOT NULL, owner TEXT NOT NULL DEFAULT '',
        owner_name TEXT NOT NULL DEFAULT '', group_key TEXT NOT NULL DEFAULT '', dataset TEXT NOT NULL DEFAULT '',
        arch TEXT NOT NULL DEFAULT '', epochs INTEGER NOT NULL DEFAULT 0, config TEXT NOT NULL DEFAULT '{}',
        extra TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL, message TEXT NOT NULL DEFAULT '',
        stop_reason TEXT, stop_request TEXT, worker TEXT NOT NULL DEFAULT '', server TEXT NOT NULL DEFAULT '',
        submitted DOUBLE PRECISION NOT NULL, started DOUBLE PRECISION, ended DOUBLE PRECISION,
        updated DOUBLE PRECISION NOT NULL, progress TEXT NOT NULL DEFAULT '{}', history TEXT NOT NULL DEFAULT '{}',
        points TEXT NOT NULL DEFAULT '[]', result TEXT NOT NULL DEFAULT '{}', saved_as TEXT NOT NULL DEFAULT '')""",
    "CREATE INDEX IF NOT EXISTS runs_owner ON runs (owner, submitted)",
    "CREATE INDEX IF NOT EXISTS runs_state ON runs (state, server)",
    """CREATE TABLE IF NOT EXISTS models (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        dataset TEXT NOT NULL DEFAULT '', meta TEXT NOT NULL DEFAULT '{}', saved DOUBLE PRECISION NOT NULL,
        deleted DOUBLE PRECISION, deleted_by TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS datasets (
        name TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '', owner_name TEXT NOT NULL DEFAULT '',
        classes TEXT NOT NULL DEFAULT '[]', updated DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS challenge (
        id INTEGER PRIMARY KEY, dataset TEXT NOT NULL, max_epochs INTEGER NOT NULL, max_params INTEGER NOT NULL,
        title TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE IF NOT EXISTS servers (
        id TEXT PRIMARY KEY, host TEXT NOT NULL DEFAULT '', engine TEXT NOT NULL DEFAULT '',
        started DOUBLE PRECISION NOT NULL, beat DOUBLE PRECISION NOT NULL)""",
]


def upgrade() -> None:
    for statement in SCHEMA_V1:
        op.execute(statement)
    op.execute("INSERT INTO settings (key, value) VALUES ('schema_version', '1')")


def downgrade() -> None:
    for table in ("servers", "challenge", "datasets", "models", "runs", "teacher_grants", "identities", "settings"):
        op.drop_table(table)
