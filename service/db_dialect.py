"""The few statements whose SQL differs between SQLite and PostgreSQL: inserts that react to a conflict."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that can take ON CONFLICT clauses, for the session's database (both spell them alike)."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement: postgresql.Insert | sqlite.Insert = module.insert(table)
    return statement


def insert_ignore(session: AsyncSession, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the session's database."""
    return upsert(session, table).on_conflict_do_nothing()
