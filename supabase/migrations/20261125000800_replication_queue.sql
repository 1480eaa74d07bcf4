-- Objects that still need copying between the primary storage and its replica (only used when a
-- replica is configured). Direct uploads land on one side only: completing one adds a row here in the
-- same transaction that marks the upload completed, and a mirrored write that lost one side adds one
-- too. `python -m shared.storage.replicate` drains the table: a row is deleted only after the copy is
-- verified, so a crash or an outage never loses one. `next_attempt_at` is both the backoff after a
-- failure and the lease while a worker copies (a worker that dies leaves the row due again later).
CREATE TABLE replication_queue (
    bucket text NOT NULL CHECK (bucket IN ('images', 'files')),
    object_key text NOT NULL CHECK (char_length(object_key) <= 512),
    enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_attempt_at timestamptz,
    last_error text CHECK (char_length(last_error) <= 1000),
    PRIMARY KEY (bucket, object_key)
);
CREATE INDEX replication_queue_due ON replication_queue (next_attempt_at);
