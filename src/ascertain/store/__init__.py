"""The case store: SQLAlchemy Core over SQLite (default) or PostgreSQL."""

from ascertain.store.db import Store

__all__ = ["Store"]
