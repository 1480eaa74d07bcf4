"""A second storage endpoint kept in step with the primary.

replica.py is the `Storage` wrapper the factory builds when `S3_REPLICA_ENDPOINT_URL` is set (mirrored
writes, reads that fall over); journal.py notes an object one side lacks as a row of `replication_queue`;
queue.py holds the drain's statements on that table; replicate.py is the job that carries the rows out
(`python -m shared.storage.replication.replicate [--full]`).
"""

from shared.storage.replication.replica import ReplicatedStorage, SyncResult, is_replicated

__all__ = ["ReplicatedStorage", "SyncResult", "is_replicated"]
