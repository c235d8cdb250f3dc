"""Alembic's environment for the class database: migrations run on the connection cnn.db hands over.

CNN Lab upgrades its database itself at start (:meth:`cnn.db.Database._migrate`, inside one transaction
that also holds the schema lock), so this file only runs what Alembic was asked to, on that connection.
A new revision: ``alembic -c cnn/migrations/alembic.ini revision -m "what changes"``, then write its
``upgrade()`` with portable operations (SQLite and PostgreSQL).
"""
from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # the alembic command line: open the class database the app would
    from sqlalchemy import create_engine

    from cnn.db import default_url

    url = default_url()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        context.configure(connection=conn, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
