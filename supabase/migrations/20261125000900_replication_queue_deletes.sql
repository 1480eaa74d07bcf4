-- A queued row now says what to do with its object. 'copy': the object may exist on one side only
-- (as before). 'delete': a delete could not reach one side, so the leftover there must be removed; an
-- object on one side only looks the same in both cases, and copying a deleted object back would undo
-- the delete. Deletion wins: queueing a delete turns a pending copy row into a delete, never the
-- reverse (keys are never reused). See shared/storage/replicate.py.
ALTER TABLE replication_queue
    ADD COLUMN op text NOT NULL DEFAULT 'copy' CHECK (op IN ('copy', 'delete'));
