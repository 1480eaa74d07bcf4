-- Rate-limit buckets, sign-in failures and idempotency records, shared by every instance and Lambda.

-- One row per bucket: its theoretical arrival time (GCRA, shared/http/limits.py). UNLOGGED: not
-- written to WAL nor replicated; a crash empties it, which only resets the limits.
CREATE UNLOGGED TABLE rate_limits (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
);

-- Wrong passwords per account, from one client address (`client`) or from all of them (`*`).
CREATE UNLOGGED TABLE signin_failures (
    account text NOT NULL,
    client text NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    window_start timestamptz NOT NULL DEFAULT now(),
    locks integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    PRIMARY KEY (account, client)
);

-- A request sent with `Idempotency-Key`, per caller (`scope`): its hash, whether its work has
-- committed, and the answer to replay. Logged: an answer must survive a crash as its work does.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL,
    committed boolean NOT NULL DEFAULT false,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

ALTER TABLE rate_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE signin_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
