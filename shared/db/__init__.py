"""Database access: one pool per process (per event loop), SQL written as SQL."""

from shared.db.pool import connection, execute, fetch_all, fetch_one, fetch_val, get_pool, transaction

__all__ = ["connection", "execute", "fetch_all", "fetch_one", "fetch_val", "get_pool", "transaction"]
