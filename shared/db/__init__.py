"""Database access: one pool per process (per event loop), SQL written as SQL."""

from shared.db.pool import (
    connection,
    current_idempotency_record,
    execute,
    fetch_all,
    fetch_one,
    fetch_val,
    get_pool,
    transaction,
)

__all__ = [
    "connection", "current_idempotency_record", "execute", "fetch_all", "fetch_one", "fetch_val", "get_pool",
    "transaction",
]
